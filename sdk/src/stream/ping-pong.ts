import { pongFrame } from './frames.js';

/**
 * Both halves of the heartbeat: answer every `ping` with a `pong` (the server
 * closes silent clients), and notice a silent server (a frozen process, a
 * dropped network path that never delivers a FIN) when nothing at all has
 * arrived for `timeoutMs`.
 */
export class PingPong {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly send: (text: string) => void,
    private readonly timeoutMs: number,
    private readonly onSilence: () => void,
  ) {}

  start(): void {
    this.arm();
  }

  /** Every frame proves the server is alive; pings also need an answer. */
  received(type: string): void {
    if (this.stopped) return;
    if (type === 'ping') this.send(pongFrame);
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.onSilence();
    }, this.timeoutMs);
  }
}
