import fc from 'fast-check';
import { pack, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  type Applied,
  type ContextCommand,
  ContextGroup,
  type ContextView,
} from '../../src/context/index.js';
import { concretize, contextIds, scriptArb } from './arbitraries.js';
import { pendingById } from './fixtures.js';
import { intersects, LogModel, pinnedOf, toolIdsOfParts, unitCount, walkTail } from './reference.js';

const runs = { seed: 42, numRuns: 250 } as const;

function configOf(view: ContextView | undefined) {
  if (view === undefined) return undefined;
  const { token_budget, trigger_ratio, policy, metadata } = view;
  return { token_budget, trigger_ratio, policy, metadata };
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    expect(a).toEqual(b);
    return true;
  } catch {
    return false;
  }
}

/**
 * Applies a script and checks every step against the rules of the data model and window policies (docs/api.md)
 * and §7. Returns nothing; every violation throws with a readable message.
 */
function runAndCheck(script: readonly ContextCommand[]): void {
  const group = new ContextGroup();
  const model = new LogModel();
  const replays = new Map<string, unknown>();

  for (const generated of script) {
    const cmd = concretize(generated, group);
    const id = cmd.id;
    const before = group.getContext(id);
    const windowBefore = group.window(id);
    const bytesBefore = group.snapshot();
    const applied = group.apply(cmd) as Applied<unknown>;
    const after = group.getContext(id);
    const { result, events } = applied;
    const unchanged = () => expect(group.snapshot()).toEqual(bytesBefore);

    // Events: one group per version bump, all with the new version, in order.
    if (events.length > 0) {
      expect(after!.version).toBe(before!.version + 1);
      for (const event of events) {
        expect(event.context_id).toBe(id);
        expect(event.frame.version).toBe(after!.version);
      }
      const types = events.map((e) => e.frame.type).join(',');
      expect(types).toMatch(/^(message,)*(compaction,)?context$|^tombstoned$/);
    } else if (before !== undefined) {
      expect(after!.version).toBe(before.version);
    }

    if (!result.ok) {
      expect(events).toEqual([]);
      unchanged();
      continue;
    }

    switch (cmd.type) {
      case 'put_context': {
        if (before === undefined) {
          expect(after!.version).toBe(0);
          expect(events).toEqual([]);
        } else {
          const changed = !sameJson(configOf(before), configOf(after));
          expect(events.length > 0).toBe(changed);
          if (!changed) unchanged();
        }
        break;
      }
      case 'patch_metadata': {
        const changed = !sameJson(before!.metadata, after!.metadata);
        expect(events.length > 0).toBe(changed);
        if (!changed) unchanged();
        break;
      }
      case 'tombstone':
        expect(events.length > 0).toBe(before!.status === 'active');
        expect(after!.status).toBe('tombstoned');
        break;
      case 'compact':
        expect(events.map((e) => e.frame.type)).toEqual(['compaction', 'context']);
        break;
      case 'ack_archived': {
        expect(events).toEqual([]);
        const value = result.value as { archived_seq: number; trimmed: number };
        const expected = Math.max(before!.archived_seq, Math.min(cmd.upto_seq, before!.last_seq));
        expect(value.archived_seq).toBe(expected);
        const state = group.archiveState(id)!;
        const retainedBefore = state.retained + value.trimmed;
        expect(value.trimmed === 0 || state.retained >= cmd.tail_keep).toBe(true);
        expect(state.retained).toBeGreaterThanOrEqual(Math.min(retainedBefore, cmd.tail_keep));
        // nothing newer than archived_seq ever leaves the tail
        expect(state.last_seq - state.retained).toBeLessThanOrEqual(state.archived_seq);
        break;
      }
      case 'append': {
        const value = result.value as {
          seq: number;
          version: number;
          token_estimate: number;
          replayed: boolean;
        };
        const key = cmd.idempotency_key === undefined ? undefined : `${id}\u0000${cmd.idempotency_key}`;
        if (value.replayed) {
          expect(key).toBeDefined();
          expect({ ...value, replayed: false }).toEqual(replays.get(key!));
          expect(events).toEqual([]);
          unchanged();
          break;
        }
        expect(key === undefined || !replays.has(key)).toBe(true);
        if (key !== undefined) replays.set(key, value);
        model.appended(id, cmd.messages);
        // Seqs are dense and follow on from the previous last_seq.
        expect(value.seq).toBe(before!.last_seq + cmd.messages.length);
        expect(value.version).toBe(before!.version + 1);
        const messageSeqs = events
          .filter((e) => e.frame.type === 'message')
          .map((e) => (e.frame as { seq: number }).seq);
        expect(messageSeqs).toEqual(cmd.messages.map((_, i) => before!.last_seq + 1 + i));
        checkTrim(cmd.messages, windowBefore!, group, id, model);
        break;
      }
    }
  }

  for (const id of contextIds) checkReads(group, id, model);
}

/** After an append: the policy's post-conditions and the tool-pair rule. */
function checkTrim(
  appended: readonly { token_count: number }[],
  windowBefore: NonNullable<ReturnType<ContextGroup['window']>>,
  group: ContextGroup,
  id: string,
  model: LogModel,
): void {
  const view = group.getContext(id)!;
  const window = group.window(id)!;
  const threshold = Math.floor(view.token_budget * view.trigger_ratio);
  const prePolicy = windowBefore.used_tokens + appended.reduce((s, m) => s + m.token_count, 0);
  const ran = prePolicy > threshold;
  if (!ran || view.policy.strategy === 'manual') {
    // Nothing may leave the window.
    expect(window.messages.length).toBe(windowBefore.messages.length + appended.length);
    expect(window.used_tokens).toBe(prePolicy);
    return;
  }
  const ids = window.messages.map((m) => model.originalToolIds(id, m));
  const pinned = pinnedOf(window.messages);
  const units = unitCount(ids, pinned);
  if (window.used_tokens > threshold) expect(units).toBeLessThanOrEqual(1);
  if (window.messages.length - pinned > view.policy.config.limit) expect(units).toBeLessThanOrEqual(1);

  // A trim never separates messages that share a tool call id.
  const keptSeqs = new Set(window.messages.map((m) => m.seq));
  const dropped = windowBefore.messages.filter((m) => m.seq !== null && !keptSeqs.has(m.seq));
  for (const d of dropped) {
    const droppedIds = model.originalToolIds(id, d);
    for (let i = pinned; i < window.messages.length; i++) expect(intersects(droppedIds, ids[i]!)).toBe(false);
  }
}

/** Reads agree with the log model and with each other. */
function checkReads(group: ContextGroup, id: string, model: LogModel): void {
  const view = group.getContext(id);
  if (view === undefined) return;
  const window = group.window(id)!;
  expect(window.version).toBe(view.version);
  expect(window.used_tokens).toBe(window.messages.reduce((s, m) => s + m.token_count, 0));
  expect(window.needs_compaction).toBe(window.used_tokens > view.token_budget * view.trigger_ratio);

  // Summary entries lead; live seqs increase; live copies keep a subset of the logged parts.
  let seenLive = false;
  let lastSeq = 0;
  for (const m of window.messages) {
    if (m.seq === null) {
      expect(seenLive).toBe(false);
      continue;
    }
    seenLive = true;
    expect(m.seq).toBeGreaterThan(lastSeq);
    lastSeq = m.seq;
    const logged = model.message(id, m.seq);
    expect(logged.parts).toEqual(expect.arrayContaining(m.parts));
  }

  // The log is exactly what was appended, whatever the window did.
  expect(view.last_seq).toBe(model.count(id));
  const limit = 1 + (view.last_seq % 5);
  const { messages, archived } = walkTail(group, id, limit);
  const state = group.archiveState(id)!;
  const first = state.last_seq - state.retained + 1;
  expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: state.retained }, (_, i) => first + i));
  for (const m of messages) {
    const logged = model.message(id, m.seq);
    expect({ role: m.role, parts: m.parts, metadata: m.metadata, token_count: m.token_count }).toEqual({
      role: logged.role,
      parts: logged.parts,
      metadata: logged.metadata,
      token_count: logged.token_count,
    });
  }
  // Archived ranges tile 1..first-1 exactly.
  let next = 1;
  for (const range of archived) {
    expect(range.from_seq).toBe(next);
    next = range.to_seq + 1;
  }
  if (messages.length > 0) expect(next).toBe(first);

  // budget_tokens trims a copy the same way: pinned and newest unit stay, pairs stay together.
  const budget = 1 + (view.version % 90);
  const trimmed = group.window(id, { budget_tokens: budget })!;
  expect(group.window(id)).toEqual(window);
  const keptSeqs = trimmed.messages.map((m) => m.seq);
  const pinned = pinnedOf(window.messages);
  expect(trimmed.messages.slice(0, pinned)).toEqual(window.messages.slice(0, pinned));
  if (window.messages.length > 0) expect(trimmed.messages.at(-1)).toEqual(window.messages.at(-1));
  expect(trimmed.used_tokens).toBe(trimmed.messages.reduce((s, m) => s + m.token_count, 0));
  if (trimmed.used_tokens > budget) {
    const ids = trimmed.messages.map((m) => model.originalToolIds(id, m));
    expect(unitCount(ids, pinnedOf(trimmed.messages))).toBeLessThanOrEqual(1);
  }
  const droppedLive = window.messages.filter((m) => m.seq !== null && !keptSeqs.includes(m.seq));
  for (const d of droppedLive) {
    for (const k of trimmed.messages.slice(pinnedOf(trimmed.messages))) {
      expect(intersects(model.originalToolIds(id, d), model.originalToolIds(id, k))).toBe(false);
    }
  }
}

describe('ContextGroup properties – seqs, versions, policies, events, archive trimming', () => {
  it('every step of a random script keeps the invariants', () => {
    fc.assert(
      fc.property(scriptArb, (script) => {
        runAndCheck(script);
      }),
      runs,
    );
  });
});

describe('ContextGroup properties – determinism and snapshots', () => {
  it('two engines fed the same commands (one through msgpack) produce the same results and bytes', () => {
    fc.assert(
      fc.property(scriptArb, (script) => {
        const a = new ContextGroup();
        const b = new ContextGroup();
        for (const generated of script) {
          const cmd = concretize(generated, a);
          const ra = a.apply(cmd);
          const rb = b.apply(unpack(pack(cmd)) as ContextCommand);
          expect(rb).toEqual(ra);
        }
        expect(Buffer.from(b.snapshot()).equals(Buffer.from(a.snapshot()))).toBe(true);
      }),
      runs,
    );
  });

  it('snapshot → restore gives the same reads, the same future results and the same bytes', () => {
    fc.assert(
      fc.property(scriptArb, fc.nat(), (script, cut) => {
        const split = cut % (script.length + 1);
        const original = new ContextGroup();
        const commands: ContextCommand[] = [];
        for (const generated of script) {
          const cmd = concretize(generated, original);
          commands.push(cmd);
          original.apply(cmd);
        }
        const prefix = new ContextGroup();
        for (const cmd of commands.slice(0, split)) prefix.apply(cmd);
        const bytes = prefix.snapshot();
        const restored = ContextGroup.restore(bytes);
        expect(Buffer.from(restored.snapshot()).equals(Buffer.from(bytes))).toBe(true);
        for (const id of contextIds) {
          expect(restored.getContext(id)).toEqual(prefix.getContext(id));
          expect(restored.window(id)).toEqual(prefix.window(id));
          expect(restored.tail(id, 0, 1_000)).toEqual(prefix.tail(id, 0, 1_000));
          expect(restored.archiveState(id)).toEqual(prefix.archiveState(id));
        }
        expect(pendingById(restored)).toEqual(pendingById(prefix));
        for (const cmd of commands.slice(split)) expect(restored.apply(cmd)).toEqual(prefix.apply(cmd));
        expect(Buffer.from(restored.snapshot()).equals(Buffer.from(original.snapshot()))).toBe(true);
      }),
      runs,
    );
  });

  it('idempotency keys survive snapshot and restore', () => {
    fc.assert(
      fc.property(scriptArb, (script) => {
        const group = new ContextGroup();
        const firsts = new Map<string, unknown>();
        for (const generated of script) {
          const cmd = concretize(generated, group);
          const applied = group.apply(cmd);
          if (cmd.type === 'append' && cmd.idempotency_key !== undefined && applied.result.ok) {
            const key = `${cmd.id}\u0000${cmd.idempotency_key}`;
            if (!firsts.has(key)) firsts.set(key, { cmd, value: applied.result.value });
          }
        }
        const restored = ContextGroup.restore(group.snapshot());
        for (const entry of firsts.values()) {
          const { cmd, value } = entry as { cmd: ContextCommand; value: object };
          const again = restored.apply(cmd);
          expect(again.result).toEqual({ ok: true, value: { ...value, replayed: true } });
          expect(again.events).toEqual([]);
        }
      }),
      runs,
    );
  });
});

describe('ContextGroup properties – tool ids used by the reference', () => {
  it('reads both spellings of a tool call id', () => {
    expect([
      ...toolIdsOfParts([
        { type: 'x', toolCallId: 'a' },
        { type: 'y', tool_call_id: 'b' },
      ]),
    ]).toEqual(['a', 'b']);
  });
});
