import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient, type FastpacaClient } from '@fastpaca/sdk';
import { inject } from 'vitest';

export { freePort, uniqueContextId as uniqueId } from '@fastpaca/server/testing';

export const mainPath = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Written to stdin, which is then closed (closed at once when absent). */
  input?: string;
  /** Overrides; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
}

/** The environment of a CLI run: the shared test server and its API key, nothing inherited that could interfere. */
export function cliEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = {
    ...process.env,
    FASTPACA_API_KEY: undefined,
    FASTPACA_URL: inject('serverUrl'),
    FASTPACA_TOKEN: inject('apiKey'),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}

/** A running `fastpaca` process with its output collected as it comes. */
export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Complete stdout lines so far. */
  lines(): string[];
  exited: Promise<number | null>;
}

export function spawnCli(args: readonly string[], options: CliOptions = {}): RunningCli {
  const child = spawn(process.execPath, [mainPath, ...args], {
    env: cliEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  if (options.input !== undefined) child.stdin!.end(options.input);
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    lines: () => stdout.split('\n').slice(0, -1),
    exited,
  };
}

/** Runs `fastpaca args…` to completion. */
export async function cli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const running = spawnCli(args, { ...options, input: options.input ?? '' });
  const code = await running.exited;
  return { code, stdout: running.stdout(), stderr: running.stderr() };
}

/** Runs a command that must succeed with `--json`, and returns its parsed output. */
export async function cliJson<T = any>(args: readonly string[], options: CliOptions = {}): Promise<T> {
  const result = await cli([...args, '--json'], options);
  if (result.code !== 0)
    throw new Error(`fastpaca ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Parses JSON lines. */
export function jsonLines<T = any>(text: string): T[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as T);
}

/** The SDK on the shared server, with the API key, for setting up and checking state. */
export function sdk(): FastpacaClient {
  return createClient({ baseUrl: inject('serverUrl'), apiKey: inject('apiKey') });
}

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const text = (value: string, role = 'user') => ({ role, parts: [{ type: 'text', text: value }] });
