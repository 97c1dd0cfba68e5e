import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './server-process.js';

/** Both `src/testing` and `dist/testing` sit two levels below the package root. */
const nodeMain = fileURLToPath(new URL('../../dist/testing/raft-test-node.js', import.meta.url));

interface Member {
  id: string;
  httpPort: number;
  dataDir: string;
  child: ChildProcess | undefined;
  log: string;
}

/**
 * A cluster of real `raft-test-node` processes on loopback: real TCP between
 * them, real write-ahead-log storage with fsync in temporary directories.
 */
export class RaftCluster {
  private constructor(
    readonly members: Member[],
    private readonly env: Record<string, string>,
  ) {}

  static async start(size: number, env: Record<string, string> = {}): Promise<RaftCluster> {
    const members: Member[] = [];
    for (let i = 0; i < size; i++) {
      members.push({
        id: `n${i + 1}`,
        httpPort: await freePort(),
        dataDir: mkdtempSync(join(tmpdir(), `fastpaca-raft-n${i + 1}-`)),
        child: undefined,
        log: '',
      });
    }
    const cluster = new RaftCluster(members, env);
    for (let i = 0; i < size; i++) cluster.spawn(i);
    return cluster;
  }

  private spawn(i: number): void {
    const m = this.members[i]!;
    const peers = this.members.map((p) => `${p.id}=127.0.0.1:${p.httpPort}`).join(',');
    const child = spawn(process.execPath, [nodeMain], {
      env: {
        ...process.env,
        RAFT_NODE_ID: m.id,
        RAFT_DATA_DIR: m.dataDir,
        RAFT_HTTP_PORT: String(m.httpPort),
        RAFT_PEERS: peers,
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => {
      m.log += c.toString();
    });
    child.stderr?.on('data', (c: Buffer) => {
      m.log += c.toString();
    });
    m.child = child;
  }

  url(i: number): string {
    return `http://127.0.0.1:${this.members[i]!.httpPort}`;
  }

  alive(i: number): boolean {
    const c = this.members[i]!.child;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  async status(
    i: number,
  ): Promise<{ ready: boolean; leaders: (string | null)[]; applied: number[] } | undefined> {
    try {
      return (await (await fetch(`${this.url(i)}/status`)).json()) as {
        ready: boolean;
        leaders: (string | null)[];
        applied: number[];
      };
    } catch {
      return undefined;
    }
  }

  /** Waits until every live member reports a leader for every group. */
  async waitReady(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const statuses = await Promise.all(
        this.members.map((_, i) => (this.alive(i) ? this.status(i) : { ready: true })),
      );
      if (statuses.every((s) => s?.ready)) return;
      if (Date.now() > deadline) throw new Error(`cluster not ready:\n${this.logs()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Index of the member leading `group`, as seen by live members, or -1. */
  async leaderOf(group: number): Promise<number> {
    for (let i = 0; i < this.members.length; i++) {
      if (!this.alive(i)) continue;
      const lead = (await this.status(i))?.leaders[group];
      const idx = this.members.findIndex((m) => m.id === lead);
      if (idx >= 0 && this.alive(idx)) return idx;
    }
    return -1;
  }

  async propose(i: number, group: number, text: string): Promise<{ status: number; leader?: string | null }> {
    const res = await fetch(`${this.url(i)}/propose?group=${group}`, { method: 'POST', body: text });
    const body = (await res.json()) as { leader?: string | null };
    return { status: res.status, leader: body.leader };
  }

  async applied(i: number, group: number): Promise<string[]> {
    return ((await (await fetch(`${this.url(i)}/applied?group=${group}`)).json()) as { entries: string[] })
      .entries;
  }

  indexOf(id: string | null | undefined): number {
    return this.members.findIndex((m) => m.id === id);
  }

  async kill(i: number): Promise<void> {
    const c = this.members[i]!.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }

  restart(i: number): void {
    this.spawn(i);
  }

  logs(): string {
    return this.members.map((m) => `--- ${m.id}\n${m.log.slice(-4000)}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.kill(i)));
    for (const m of this.members) rmSync(m.dataDir, { recursive: true, force: true });
  }
}
