import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const resultsPath = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

/**
 * Appends a section to RESULTS.md, then formats the file: the repository's
 * formatter aligns markdown tables, and the lint fails on a file it would
 * change.
 */
export function appendResults(markdown: string): void {
  appendFileSync(resultsPath, markdown.startsWith('\n') ? markdown : `\n${markdown}`);
  const biome = fileURLToPath(new URL('../../node_modules/.bin/biome', import.meta.url));
  try {
    execFileSync(biome, ['format', '--write', resultsPath], { cwd: repoRoot, stdio: 'ignore' });
  } catch {
    console.error(`could not format ${resultsPath}; run: npx biome format --write bench/RESULTS.md`);
  }
}
