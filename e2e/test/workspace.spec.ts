import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function projectGraph(): Record<string, string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fastpaca-graph-'));
  try {
    const file = join(dir, 'graph.json');
    execFileSync(join(root, 'node_modules/.bin/nx'), ['graph', `--file=${file}`], {
      cwd: root,
      stdio: 'ignore',
      env: { ...process.env, NX_DAEMON: 'false' },
    });
    const graph = JSON.parse(readFileSync(file, 'utf8')).graph as {
      dependencies: Record<string, { target: string }[]>;
    };
    return Object.fromEntries(
      Object.entries(graph.dependencies).map(([name, deps]) => [name, deps.map((d) => d.target).sort()]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('workspace – dependency structure', () => {
  it('contract depends on nothing of ours; server, sdk and sdk-react depend on contract', () => {
    const graph = projectGraph();
    expect(graph['@fastpaca/contract']).toEqual([]);
    for (const name of ['@fastpaca/server', '@fastpaca/sdk', '@fastpaca/sdk-react']) {
      expect(graph[name], name).toContain('@fastpaca/contract');
    }
  });

  it('has exactly the top-level packages of the architecture', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
    for (const dir of ['contract', 'server', 'sdk', 'sdk-react', 'e2e'])
      expect(pkg.workspaces).toContain(dir);
  });
});
