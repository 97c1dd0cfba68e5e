// @vitest-environment node
import type { Message } from '@fastpaca/sdk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChatRowsBuilder, toChatMessages } from '../../src/core/chat-messages.js';
import type { LocalMessage } from '../../src/core/context-state.js';
import { type ContextMessage, MessageViewBuilder } from '../../src/core/message-view.js';

const stored = (seq: number, role: string, uiId?: string): Message => ({
  seq,
  role,
  parts: [{ type: 'text', text: `m${seq}` }],
  metadata: uiId === undefined ? {} : { ui_message_id: uiId },
  token_count: 1,
  inserted_at: '2026-01-01T00:00:00.000Z',
});

const draft = (id: string, text: string, uiMessageId: string | null = null): LocalMessage => ({
  id,
  role: 'assistant',
  parts: [{ type: 'text', text }],
  metadata: {},
  state: 'streaming',
  seq: null,
  uiMessageId,
});

/** A fresh builder has nothing cached: what every build must equal. */
const fresh = (
  messages: readonly Message[],
  local: readonly LocalMessage[],
  adopted: ReadonlyMap<number, string>,
) => new MessageViewBuilder().build(messages, local, adopted);

const role = fc.constantFrom('user', 'assistant', 'system', 'tool');
const uiId = fc.option(fc.constantFrom('a', 'b', 'c', 'reply'), { nil: undefined });

describe('view builders – incremental equals from scratch', () => {
  it('MessageViewBuilder: any sequence of log, local and adopted-key changes builds what a fresh builder builds', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            grow: fc.array(fc.tuple(role, uiId), { maxLength: 3 }),
            draftText: fc.option(fc.string({ maxLength: 5 }), { nil: undefined }),
            draftUi: fc.option(fc.constantFrom('a', 'reply'), { nil: null }),
            adopt: fc.boolean(),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        (steps) => {
          const builder = new MessageViewBuilder();
          let log: Message[] = [];
          let adopted: ReadonlyMap<number, string> = new Map();
          for (const step of steps) {
            if (step.grow.length > 0) {
              log = log.concat(step.grow.map(([r, id], i) => stored(log.length + i + 1, r, id)));
            }
            if (step.adopt && log.length > 0) adopted = new Map([[log.length, 'local:x']]);
            const local = step.draftText === undefined ? [] : [draft('x', step.draftText, step.draftUi)];
            const built = builder.build(log, local, adopted);
            expect(built).toEqual(fresh(log, local, adopted));
            expect(new Set(built.map((row) => row.key)).size).toBe(built.length);
          }
        },
      ),
      { seed: 20261203, numRuns: 300 },
    );
  });

  it('ChatRowsBuilder: any sequence of lists gives toChatMessages, reusing the rows it already made', () => {
    const rows = (n: number, roles: string[]): ContextMessage[] =>
      Array.from({ length: n }, (_, i) => ({
        key: `k${i}`,
        seq: i + 1,
        role: roles[i % roles.length]!,
        parts: [],
        metadata: {},
        token_count: 1,
        inserted_at: null,
        state: 'committed',
      }));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(20), fc.nat(20)), { minLength: 1, maxLength: 15 }),
        fc.array(role, { minLength: 1, maxLength: 4 }),
        (steps, roles) => {
          const builder = new ChatRowsBuilder();
          const pool = rows(20, roles);
          let previous: ReturnType<ChatRowsBuilder['build']> = [];
          let previousList: ContextMessage[] = [];
          for (const [length, replaceAt] of steps) {
            // A prefix of the same rows, with one row replaced by a new object (a changed draft).
            const list = pool.slice(0, length);
            if (replaceAt < list.length) list[replaceAt] = { ...list[replaceAt]! };
            const built = builder.build(list);
            expect(built).toEqual(toChatMessages(list));
            // Rows converted from the unchanged start of the list are the very objects built before.
            let same = 0;
            while (same < list.length && list[same] === previousList[same]) same++;
            const before = new Map(previous.map((row) => [row.seq, row]));
            for (const row of built) if (row.seq! <= same) expect(row).toBe(before.get(row.seq));
            previousList = list;
            previous = built;
          }
        },
      ),
      { seed: 20261203, numRuns: 300 },
    );
  });
});
