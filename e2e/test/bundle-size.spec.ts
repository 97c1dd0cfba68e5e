import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without declarations
import { bundleSizes } from '../../scripts/bundle-size.js';

const root = join(import.meta.dirname, '..', '..');

/** The sizes the SDK's README reports, by row: `| name | 107.1 KiB | 29.2 KiB |`. */
function reported(): Record<string, { minified: number; gzipped: number }> {
  const readme = readFileSync(join(root, 'sdk', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Bundle size'));
  const rows: Record<string, { minified: number; gzipped: number }> = {};
  for (const match of section.matchAll(/^\| (.+?) +\| +([\d.]+) KiB \| +([\d.]+) KiB \|$/gm)) {
    const name = match[1]!.replaceAll('`', '').replace(/^(\S+) \((.+)\)$/, '$1 ($2)');
    rows[name] = { minified: Number(match[2]) * 1024, gzipped: Number(match[3]) * 1024 };
  }
  return rows;
}

describe('bundle size', () => {
  it('what the SDK and the hooks add to a browser app is what the SDK README says, within 2 %', async () => {
    const measured = (await bundleSizes(root)) as Record<
      string,
      { minified: number; gzipped: number } | null
    >;
    const readme = reported();
    expect(Object.keys(readme).sort()).toEqual(Object.keys(measured).sort());
    for (const [name, size] of Object.entries(measured)) {
      expect(size, `${name} bundles`).not.toBeNull();
      const want = readme[name]!;
      expect(Math.abs(size!.minified / want.minified - 1), `${name} minified`).toBeLessThan(0.02);
      expect(Math.abs(size!.gzipped / want.gzipped - 1), `${name} gzipped`).toBeLessThan(0.02);
    }
  });
});
