import { assert } from './errors.js';
import type { ConfChange, ConfChangeType, ConfState, ReplicaId } from './types.js';

/**
 * Membership: configurations, single-server changes and the history of
 * configurations along the log. A configuration takes effect on each replica
 * as soon as its entry is appended (not when committed), as in the Raft thesis;
 * the README explains why that is safe with one change at a time.
 */

const CHANGE_CODES: Record<ConfChangeType, number> = { add_learner: 1, promote: 2, remove: 3 };
const CHANGE_TYPES: readonly (ConfChangeType | undefined)[] = [undefined, 'add_learner', 'promote', 'remove'];

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** One byte of change type, then the node id in UTF-8. */
export function encodeConfChange(change: ConfChange): Uint8Array {
  const id = encoder.encode(change.node);
  const out = new Uint8Array(id.length + 1);
  out[0] = CHANGE_CODES[change.type];
  out.set(id, 1);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const type = CHANGE_TYPES[data[0] ?? 0];
  assert(type !== undefined && data.length > 1, 'malformed conf change entry');
  return { type, node: decoder.decode(data.subarray(1)) };
}

export function isVoter(conf: ConfState, id: ReplicaId): boolean {
  return conf.voters.includes(id);
}

export function isMember(conf: ConfState, id: ReplicaId): boolean {
  return conf.voters.includes(id) || conf.learners.includes(id);
}

export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** The configuration after `change`, or a reason it does not apply to `conf`. */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState | string {
  const { node } = change;
  switch (change.type) {
    case 'add_learner':
      if (isMember(conf, node)) return `${node} is already a member`;
      return { voters: conf.voters, learners: [...conf.learners, node] };
    case 'promote':
      if (!conf.learners.includes(node)) return `${node} is not a learner`;
      return { voters: [...conf.voters, node], learners: conf.learners.filter((n) => n !== node) };
    case 'remove':
      if (!isMember(conf, node)) return `${node} is not a member`;
      if (conf.voters.length === 1 && conf.voters[0] === node) return 'cannot remove the last voter';
      return {
        voters: conf.voters.filter((n) => n !== node),
        learners: conf.learners.filter((n) => n !== node),
      };
  }
}

export function validateConfState(conf: ConfState): void {
  const all = [...conf.voters, ...conf.learners];
  assert(new Set(all).size === all.length, 'a node appears twice in a configuration');
  for (const id of all) assert(typeof id === 'string' && id.length > 0, 'node ids are non-empty strings');
}

export const EMPTY_CONF: ConfState = Object.freeze({ voters: [], learners: [] });

/**
 * The configurations along the log after the snapshot: `base` is in force at
 * the snapshot index, each change from its entry's index on. Single-server
 * changes are rare and at most one is uncommitted, so the list stays tiny.
 */
export class ConfHistory {
  private base: ConfState;
  private baseIndex: number;
  private readonly changes: { index: number; conf: ConfState }[] = [];

  constructor(base: ConfState, baseIndex: number) {
    validateConfState(base);
    this.base = base;
    this.baseIndex = baseIndex;
  }

  current(): ConfState {
    return this.changes.length > 0 ? this.changes[this.changes.length - 1]!.conf : this.base;
  }

  /** Index of the newest configuration change entry, or the snapshot index. */
  currentIndex(): number {
    return this.changes.length > 0 ? this.changes[this.changes.length - 1]!.index : this.baseIndex;
  }

  at(index: number): ConfState {
    assert(index >= this.baseIndex, `configuration at ${index} precedes the snapshot at ${this.baseIndex}`);
    let conf = this.base;
    for (const c of this.changes) {
      if (c.index > index) break;
      conf = c.conf;
    }
    return conf;
  }

  push(index: number, conf: ConfState): void {
    assert(index > this.currentIndex(), 'configuration changes are appended in index order');
    validateConfState(conf);
    this.changes.push({ index, conf });
  }

  /** Forgets changes at or after `index` (their entries were truncated). */
  truncateFrom(index: number): void {
    while (this.changes.length > 0 && this.changes[this.changes.length - 1]!.index >= index)
      this.changes.pop();
  }

  /** The log before `index` is discarded: fold older changes into the base. */
  compactTo(index: number): void {
    if (index <= this.baseIndex) return;
    this.base = this.at(index);
    this.baseIndex = index;
    while (this.changes.length > 0 && this.changes[0]!.index <= index) this.changes.shift();
  }

  reset(conf: ConfState, index: number): void {
    validateConfState(conf);
    this.base = conf;
    this.baseIndex = index;
    this.changes.length = 0;
  }
}
