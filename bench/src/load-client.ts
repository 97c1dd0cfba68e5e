import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromLoadGenerator, LoadResult, LoadSpec } from './load-protocol.js';

/** The runner's handle on its load generator process; one run at a time. */
export class LoadGenerator {
  private readonly child: ChildProcess;
  private busy = false;

  private constructor() {
    this.child = fork(fileURLToPath(new URL('./load-generator.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  }

  static start(): LoadGenerator {
    return new LoadGenerator();
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * Runs one spec. `onMeasuring` is called when the warm-up is over and the
   * measured phase begins, so the caller can start sampling the server then.
   */
  run(spec: LoadSpec, onMeasuring: () => void = () => {}): Promise<LoadResult> {
    if (this.busy) throw new Error('LoadGenerator.run: a run is already in progress');
    this.busy = true;
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => {
        this.busy = false;
        reject(new Error(`load generator exited with ${code}`));
      };
      const onMessage = (message: FromLoadGenerator) => {
        if (message.type === 'measuring') {
          onMeasuring();
          return;
        }
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        this.busy = false;
        if (message.type === 'result') resolve(message.result);
        else reject(new Error(`load generator: ${message.message}`));
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send({ type: 'run', spec });
    });
  }

  close(): void {
    if (this.child.connected) this.child.send({ type: 'exit' });
  }
}
