import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClusterView } from '@fastpaca/contract';
import { groupOf } from '@fastpaca/server/placement';
import type { TestCluster } from '@fastpaca/server/testing/cluster';
import type { Rng } from './rng.js';
import { CHAOS_API_KEY } from './workload.js';

export const NEMESIS_KINDS = [
  'kill',
  'pause',
  'partition',
  'one-way',
  'flap',
  'latency',
  'disk-full',
  'wipe',
  'membership',
] as const;
export type NemesisKind = (typeof NEMESIS_KINDS)[number];

/** Whose process or link a fault hits, resolved when the fault starts. */
export type Target = 'random' | 'leader' | 'coordinator';

/** One planned fault: start after `after` ms of quiet, last `duration` ms, then heal. */
export interface Step {
  readonly kind: NemesisKind;
  readonly target: Target;
  readonly after: number;
  readonly duration: number;
}

/** What happened, for the report: when each fault started and healed, and whom it hit. */
export interface Executed {
  readonly kind: NemesisKind;
  description: string;
  readonly start: number;
  end?: number;
  error?: string;
}

/**
 * The schedule is drawn from the seed before the run, so a seed names one
 * schedule; targets (the leader of a workload context's group, the
 * coordinator) are resolved when each fault starts.
 */
export function schedule(
  rng: Rng,
  kinds: readonly NemesisKind[],
  durationMs: number,
  targets: readonly Target[] = ['random', 'random', 'leader', 'coordinator'],
): Step[] {
  const steps: Step[] = [];
  let t = 0;
  while (kinds.length > 0) {
    const kind = rng.pick(kinds);
    const after = rng.int(1_000, 4_000);
    // Longer than the election timeout (0.5–1 s), shorter than the node-down grace, mostly.
    const duration = kind === 'membership' ? 0 : rng.int(1_500, 8_000);
    if (t + after + duration > durationMs) break;
    const target: Target = rng.pick(targets);
    steps.push({ kind, target, after, duration });
    t += after + duration;
  }
  return steps;
}

export interface NemesisOptions {
  readonly cluster: TestCluster;
  readonly rng: Rng;
  /** A context whose group's leader the `leader` target means. */
  readonly contexts: readonly string[];
  /** ms since the run started, in the history's clock. */
  readonly now: () => number;
  /** Data directories mounted as small filesystems (disk-full can fill them). */
  readonly smallDisks: boolean;
  /** Called when the set of nodes clients may use changes (a node joined or was drained). */
  readonly onMembershipChange: () => void;
  /** Called before node `i`'s process is killed, to keep its log. */
  readonly beforeKill: (i: number) => void;
  readonly log: (line: string) => void;
}

/** Runs a schedule against a cluster of real processes, one fault at a time, healing each before the next. */
export class Nemesis {
  readonly executed: Executed[] = [];
  private stopped = false;
  /** Nodes a fault is acting on now; the supervisor leaves them alone. */
  readonly touching = new Set<number>();
  /** Nodes drained out of the cluster; clients no longer use them. */
  readonly drained = new Set<number>();
  private membershipWork: Promise<void> = Promise.resolve();
  private membershipBusy = false;

  constructor(private readonly o: NemesisOptions) {}

  stop(): void {
    this.stopped = true;
  }

  async run(steps: readonly Step[]): Promise<void> {
    for (const step of steps) {
      if (this.stopped) break;
      await sleep(step.after);
      if (this.stopped) break;
      await this.apply(step);
    }
    await this.membershipWork;
  }

  /** Indices of nodes that are members (not drained). */
  members(): number[] {
    return this.o.cluster.nodes.map((_, i) => i).filter((i) => !this.drained.has(i));
  }

  private async apply(step: Step): Promise<void> {
    const { cluster } = this.o;
    const entry: Executed = { kind: step.kind, description: step.kind, start: this.o.now() };
    this.executed.push(entry);
    let i = -1;
    try {
      const resolved = step.kind === 'membership' ? -1 : await this.resolve(step.target);
      if (resolved === undefined) {
        entry.description = `${step.kind} skipped: every member is being restarted`;
        return;
      }
      i = resolved;
      if (i >= 0) this.touching.add(i);
      const name = cluster.nodes[Math.max(i, 0)]!.name;
      const others = this.members()
        .filter((j) => j !== i)
        .map((j) => cluster.nodes[j]!.name);
      const proxy = cluster.proxy!;
      switch (step.kind) {
        case 'kill':
          entry.description = `kill -9 ${name} (${step.target}) for ${step.duration} ms`;
          this.o.beforeKill(i);
          await cluster.kill(i);
          await sleep(step.duration);
          await cluster.startNode(i);
          break;
        case 'wipe':
          if (!(await this.settled())) {
            entry.description = `wipe skipped: the cluster is still repairing (a member down or a group short of 3 voters)`;
            break;
          }
          entry.description = `kill -9 ${name} (${step.target}), wipe its data directory, restart after ${step.duration} ms`;
          this.o.beforeKill(i);
          await cluster.kill(i);
          cluster.empty(i);
          await sleep(step.duration);
          await cluster.startNode(i);
          break;
        case 'pause': {
          entry.description = `SIGSTOP ${name} (${step.target}) for ${step.duration} ms`;
          const child = cluster.nodes[i]!.server?.child;
          child?.kill('SIGSTOP');
          await sleep(step.duration);
          child?.kill('SIGCONT');
          break;
        }
        case 'partition': {
          // A minority: one node of three or four, two of five.
          const minority = [name, ...others.slice(0, Math.max(0, Math.floor(others.length / 2) - 1))];
          const majority = others.filter((n) => !minority.includes(n));
          entry.description = `partition ${minority.join(',')} | ${majority.join(',')} for ${step.duration} ms`;
          for (const a of minority) for (const b of majority) proxy.partition(a, b);
          await sleep(step.duration);
          proxy.heal();
          break;
        }
        case 'one-way': {
          const to = this.o.rng.pick(others);
          entry.description = `drop every byte ${name} sends to ${to} for ${step.duration} ms`;
          proxy.dropOneWay(name, to);
          await sleep(step.duration);
          proxy.heal();
          break;
        }
        case 'flap': {
          const other = this.o.rng.pick(others);
          entry.description = `link ${name}–${other} flapping every 200–600 ms for ${step.duration} ms`;
          const until = Date.now() + step.duration;
          while (Date.now() < until && !this.stopped) {
            proxy.partition(name, other);
            await sleep(this.o.rng.int(200, 600));
            proxy.heal();
            await sleep(this.o.rng.int(200, 600));
          }
          break;
        }
        case 'latency': {
          const ms = this.o.rng.int(50, 300);
          entry.description = `${ms} ms added each way on every link of ${name} for ${step.duration} ms`;
          for (const other of others) proxy.delay(name, other, ms);
          await sleep(step.duration);
          proxy.heal();
          break;
        }
        case 'disk-full': {
          if (!this.o.smallDisks) {
            entry.description = 'disk-full skipped: data directories are not small filesystems';
            break;
          }
          const ballast = join(cluster.nodes[i]!.dataDir, 'ballast');
          entry.description = `fill ${name}'s data filesystem for ${step.duration} ms`;
          fill(ballast);
          await sleep(step.duration);
          rmSync(ballast, { force: true });
          break;
        }
        case 'membership':
          entry.description = this.membershipStep();
          break;
      }
    } catch (error) {
      entry.error = (error as Error).message.split('\n')[0];
    } finally {
      this.touching.delete(i);
      entry.end = this.o.now();
      this.o.log(`nemesis: ${entry.description}${entry.error ? ` (failed: ${entry.error})` : ''}`);
    }
  }

  /**
   * Joins a new node while there are three members, else drains one (the
   * cluster refuses to drain below three). Runs in the background, so the
   * change overlaps the faults that follow; one change at a time, and none
   * while the cluster is still repairing (a change then could take the last
   * replicas of a group away).
   */
  private membershipStep(): string {
    if (this.membershipBusy) return 'membership change skipped: the previous one is still running';
    this.membershipBusy = true;
    this.membershipWork = this.membershipChange()
      .catch((error: Error) =>
        this.o.log(`nemesis: membership change failed: ${error.message.split('\n')[0]}`),
      )
      .finally(() => {
        this.membershipBusy = false;
      });
    return this.o.cluster.nodes.length > 0 && this.members().length <= 3
      ? `join node-${this.o.cluster.nodes.length + 1}`
      : 'drain a member';
  }

  private async membershipChange(): Promise<void> {
    const { cluster } = this.o;
    if (!(await this.settled())) {
      this.o.log('nemesis: membership change skipped: the cluster is still repairing');
      return;
    }
    const members = this.members();
    if (members.length <= 3) {
      // The new node is in the cluster's list before it runs: keep the supervisor off it until it does.
      const joining = cluster.nodes.length;
      this.touching.add(joining);
      try {
        await cluster.addNode();
      } finally {
        this.touching.delete(joining);
        this.o.onMembershipChange();
      }
      this.o.log(`nemesis: node-${joining + 1} joined`);
      return;
    }
    const victim = this.o.rng.pick(members.filter((i) => !this.touching.has(i)));
    const name = cluster.nodes[victim]!.name;
    const via = members.find((j) => j !== victim && cluster.nodes[j]!.server)!;
    this.drained.add(victim);
    this.o.onMembershipChange();
    const res = await fetch(`${cluster.nodes[via]!.url}/v1/cluster/nodes/${name}/drain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CHAOS_API_KEY}` },
    });
    if (!res.ok) {
      this.drained.delete(victim);
      this.o.onMembershipChange();
      this.o.log(`nemesis: drain ${name} refused: ${res.status} ${await res.text()}`);
      return;
    }
    // Once removed it serves nothing: stop its process, as an operator would.
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !this.stopped) {
      const view = await anyView(cluster, this.members()).catch(() => undefined);
      const state = view?.nodes.find((n) => n.name === name)?.state;
      if (view && (state === undefined || state === 'removed')) {
        this.o.beforeKill(victim);
        await cluster.kill(victim);
        this.o.log(`nemesis: ${name} drained and stopped`);
        return;
      }
      await sleep(1_000);
    }
  }

  /**
   * The node index a target means now (a random member when the leader or
   * coordinator cannot be told), never one the supervisor is restarting;
   * undefined when every member is busy.
   */
  private async resolve(target: Target): Promise<number | undefined> {
    const { cluster } = this.o;
    const free = this.members().filter((i) => !this.touching.has(i));
    if (free.length === 0) return undefined;
    const random = this.o.rng.pick(free);
    if (target === 'random') return random;
    const view = await anyView(cluster, free).catch(() => undefined);
    if (!view) return random;
    const name =
      target === 'coordinator'
        ? view.coordinator
        : view.groups[groupOf(this.o.rng.pick(this.o.contexts))]?.leader;
    const i = cluster.nodes.findIndex((n) => n.name === name);
    return i >= 0 && free.includes(i) ? i : random;
  }

  /**
   * Whether the cluster has repaired everything: every member up and every
   * group with three voters. Wiping a node destroys a replica; a second wipe
   * before the first is repaired can destroy a quorum, which no store survives.
   */
  private async settled(): Promise<boolean> {
    const members = this.members();
    const view = await anyView(this.o.cluster, members).catch(() => undefined);
    if (!view) return false;
    const names = new Set(members.map((i) => this.o.cluster.nodes[i]!.name));
    const up = view.nodes.filter((n) => names.has(n.name) && n.status === 'up' && n.state === 'active');
    return (
      up.length === names.size &&
      view.groups.every((g) => g.replicas.filter((r) => r.role === 'voter').length === 3 && g.leader !== null)
    );
  }
}

async function anyView(cluster: TestCluster, members: readonly number[]): Promise<ClusterView> {
  for (const i of members) {
    const node = cluster.nodes[i]!;
    if (!node.server) continue;
    try {
      const res = await fetch(`${node.url}/v1/cluster`, {
        headers: { authorization: `Bearer ${CHAOS_API_KEY}` },
        signal: AbortSignal.timeout(1_000),
      });
      if (res.ok) return (await res.json()) as ClusterView;
    } catch {}
  }
  throw new Error('no node answered GET /v1/cluster');
}

/** Fills the filesystem holding `path` until a write fails with ENOSPC. */
function fill(path: string): void {
  try {
    execFileSync('fallocate', ['-l', '1G', path], { stdio: 'ignore' });
  } catch {
    // fallocate fails without allocating when the request is larger than the free space: write what fits.
    const chunk = Buffer.alloc(1 << 20);
    try {
      for (let i = 0; i < 4_096; i++) writeFileSync(path, chunk, { flag: 'a' });
    } catch {}
  }
}
