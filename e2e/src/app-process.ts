import { type ChildProcess, spawn } from 'node:child_process';

/** A child process of an app under test, started and waited for until it says it is ready. */
export interface AppProcess {
  output(): string;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<void>;
}

/**
 * Spawns `node args…` in `cwd` and resolves once its output matches `ready`;
 * fails with everything it printed if it exits first or takes longer than 45 s.
 */
export async function startAppProcess(
  what: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; ready: RegExp },
): Promise<AppProcess> {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const collect = (chunk: Buffer) => {
    log += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 45_000;
  while (!options.ready.test(log)) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} not ready in time:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    output: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
