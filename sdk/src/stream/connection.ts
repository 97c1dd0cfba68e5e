import type { StreamServerFrame } from '@fastpaca/contract';
import { parseFrame } from './frames.js';
import { PingPong } from './ping-pong.js';
import type { OpenSocket, SocketConnection, SocketRefusal } from './socket.js';

export interface ConnectionOptions {
  url: string;
  credential: string | undefined;
  connectTimeoutMs: number;
  heartbeatTimeoutMs: number;
}

/** Why the client ended a connection, when it was the client. */
export type ClientCloseReason =
  | 'requested'
  | 'paused'
  | 'connect_timeout'
  | 'heartbeat_timeout'
  | 'protocol_error';

export interface ConnectionClosed {
  code: number;
  reason: string;
  refusal: SocketRefusal | undefined;
  /** Whether the upgrade succeeded. */
  opened: boolean;
  /** How long the connection stayed open, in milliseconds (0 if it never opened). */
  openMs: number;
  framesReceived: number;
  clientReason: ClientCloseReason | undefined;
  /** What broke the protocol, for `protocol_error`. */
  problem: string | undefined;
}

export interface ConnectionListener {
  onOpen(): void;
  /** A frame; throwing closes the connection as a protocol error. */
  onFrame(frame: StreamServerFrame): void;
  onClosed(closed: ConnectionClosed): void;
}

/**
 * One websocket connection, from upgrade to close: connect timeout, frame
 * parsing, the heartbeat. It never reconnects; the subscription decides what
 * comes next from `onClosed`, which is called exactly once, after every timer
 * of this connection is cleared.
 */
export class Connection {
  private readonly socket: SocketConnection;
  private readonly pingPong: PingPong;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private opened = false;
  private openedAt = 0;
  private frames = 0;
  private clientReason: ClientCloseReason | undefined;
  private problem: string | undefined;
  private closedFlag = false;
  private resolveClosed!: () => void;
  /** Resolves once the socket is gone. */
  readonly closed: Promise<void> = new Promise((resolve) => {
    this.resolveClosed = resolve;
  });

  constructor(openSocket: OpenSocket, options: ConnectionOptions, listener: ConnectionListener) {
    this.pingPong = new PingPong(
      (text) => this.socket.send(text),
      options.heartbeatTimeoutMs,
      () => this.close('heartbeat_timeout'),
    );
    this.connectTimer = setTimeout(() => this.close('connect_timeout'), options.connectTimeoutMs);
    try {
      this.socket = openSocket(
        { url: options.url, credential: options.credential },
        {
          onOpen: () => {
            if (this.closedFlag || this.clientReason) return;
            this.opened = true;
            this.openedAt = Date.now();
            clearTimeout(this.connectTimer);
            this.pingPong.start();
            listener.onOpen();
          },
          onMessage: (text) => {
            if (this.closedFlag || this.clientReason) return;
            this.frames++;
            const parsed = parseFrame(text);
            if (parsed.kind === 'unknown') {
              this.pingPong.received('unknown');
              return;
            }
            if (parsed.kind === 'invalid') {
              this.fail(parsed.problem);
              return;
            }
            this.pingPong.received(parsed.frame.type);
            try {
              listener.onFrame(parsed.frame);
            } catch (error) {
              this.fail(error instanceof Error ? error.message : String(error));
            }
          },
          onClose: (event) => {
            this.closedFlag = true;
            clearTimeout(this.connectTimer);
            this.pingPong.stop();
            this.resolveClosed();
            listener.onClosed({
              code: event.code,
              reason: event.reason,
              refusal: event.refusal,
              opened: this.opened,
              openMs: this.opened ? Date.now() - this.openedAt : 0,
              framesReceived: this.frames,
              clientReason: this.clientReason,
              problem: this.problem,
            });
          },
        },
      );
    } catch (error) {
      clearTimeout(this.connectTimer);
      this.pingPong.stop();
      throw error;
    }
  }

  get isOpen(): boolean {
    return this.opened && !this.closedFlag && this.clientReason === undefined;
  }

  /** Starts closing; `onClosed` follows. The first reason wins. */
  close(reason: ClientCloseReason): void {
    if (this.closedFlag) return;
    this.clientReason ??= reason;
    clearTimeout(this.connectTimer);
    this.pingPong.stop();
    this.socket.close(1000, reason);
  }

  private fail(problem: string): void {
    this.problem ??= problem;
    this.close('protocol_error');
  }
}
