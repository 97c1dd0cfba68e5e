import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Runs one of the standalone benchmark scripts in its own process (its
 * progress goes to this terminal) and returns what it wrote with `--json`.
 */
export async function runChildBench<T>(script: string, args: string[]): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'fastpaca-bench-json-'));
  const out = join(dir, 'result.json');
  try {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url)), ...args, '--json', out],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`${script} exited with ${code}`);
    return JSON.parse(readFileSync(out, 'utf8')) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
