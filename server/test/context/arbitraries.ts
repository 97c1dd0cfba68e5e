import type { Part } from '@fastpaca/contract';
import fc from 'fast-check';
import type { ContextCommand, ContextGroup, PreparedMessage } from '../../src/context/index.js';

/*
 * Random command sequences over two contexts. Small pools of token counts,
 * tool call ids and idempotency keys make trims, tool pairs and replays
 * frequent. `if_version: -1` stands for "the current version", resolved when
 * the command is applied.
 */

export const contextIds = ['a', 'b'] as const;
const toolIdArb = fc.constantFrom('c1', 'c2', 'c3', 'c4', 'c5');

const plainPartArb: fc.Arbitrary<Part> = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.string({ maxLength: 6 }) }),
  fc.record({ type: fc.constant('reasoning'), text: fc.string({ maxLength: 4 }) }),
  fc.record({ type: fc.constant('file'), url: fc.constant('https://example.com/f') }),
);

const toolPartArb: fc.Arbitrary<Part> = fc.oneof(
  fc.record({ type: fc.constantFrom('tool-call', 'tool-result', 'tool-search'), toolCallId: toolIdArb }),
  fc.record({ type: fc.constant('text'), text: fc.constant('result'), tool_call_id: toolIdArb }),
);

/** Token counts are split evenly over the parts so part_tokens always adds up. */
function splitTokens(total: number, parts: number): number[] {
  const each = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, i) => (i === 0 ? total - each * (parts - 1) : each));
}

function messageArb(withTools: boolean): fc.Arbitrary<PreparedMessage> {
  return fc
    .record({
      role: fc.constantFrom('system', 'user', 'assistant', 'tool'),
      parts: fc.array(withTools ? fc.oneof(plainPartArb, toolPartArb) : plainPartArb, {
        minLength: 1,
        maxLength: 3,
      }),
      token_count: fc.integer({ min: 0, max: 60 }),
      with_part_tokens: fc.boolean(),
      metadata: fc.oneof(fc.constant({}), fc.record({ n: fc.integer() })),
    })
    .map(({ role, parts, token_count, with_part_tokens, metadata }) => {
      // System messages carry no tool ids: pinning is about the window's head, not about pairs.
      const safeParts =
        role === 'system' ? parts.filter((p) => !('toolCallId' in p || 'tool_call_id' in p)) : parts;
      const finalParts = safeParts.length > 0 ? safeParts : [{ type: 'text', text: 'sys' }];
      const message: PreparedMessage = { role, parts: finalParts, metadata, token_count };
      if (with_part_tokens) message.part_tokens = splitTokens(token_count, finalParts.length);
      return message;
    });
}

const policyArb = fc.oneof(
  fc.record({
    strategy: fc.constant('last_n' as const),
    config: fc.record({ limit: fc.integer({ min: 1, max: 8 }) }),
  }),
  fc.record({
    strategy: fc.constant('skip_parts' as const),
    config: fc.record({
      skip_kinds: fc.subarray(['reasoning', 'tool', 'file']),
      limit: fc.integer({ min: 1, max: 8 }),
    }),
  }),
  fc.constant({ strategy: 'manual' as const, config: {} }),
);

const idArb = fc.constantFrom(...contextIds);
const atArb = fc.integer({ min: 0, max: 2_000_000_000_000 });
const ifVersionArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constant(-1) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 }) },
);

export const putArb = fc
  .record(
    {
      id: idArb,
      at: atArb,
      token_budget: fc.integer({ min: 1, max: 300 }),
      trigger_ratio: fc.constantFrom(0.33, 0.5, 0.7, 1),
      policy: policyArb,
      metadata: fc.oneof(fc.constant({}), fc.record({ team: fc.constantFrom('x', 'y') })),
    },
    { requiredKeys: ['id', 'at', 'token_budget'] },
  )
  .map((fields): ContextCommand => ({ type: 'put_context', ...fields }));

const appendArb = fc
  .record({
    id: idArb,
    at: atArb,
    messages: fc.array(messageArb(true), { minLength: 1, maxLength: 3 }),
    if_version: ifVersionArb,
    idempotency_key: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom('k1', 'k2', 'k3') },
    ),
  })
  .map(({ if_version, idempotency_key, ...rest }): ContextCommand => {
    const cmd: ContextCommand = { type: 'append', ...rest };
    if (if_version !== undefined) cmd.if_version = if_version;
    if (idempotency_key !== undefined) cmd.idempotency_key = idempotency_key;
    return cmd;
  });

const compactArb = fc
  .record({
    id: idArb,
    at: atArb,
    replacement: fc.array(messageArb(false), { maxLength: 3 }),
    if_version: ifVersionArb,
  })
  .map(({ if_version, ...rest }): ContextCommand => {
    const cmd: ContextCommand = { type: 'compact', ...rest };
    if (if_version !== undefined) cmd.if_version = if_version;
    return cmd;
  });

const patchArb = fc
  .record({
    id: idArb,
    at: atArb,
    metadata: fc.dictionary(
      fc.constantFrom('team', 'n', 'tag'),
      fc.oneof(fc.constant(null), fc.constantFrom('x', 'y')),
    ),
  })
  .map((fields): ContextCommand => ({ type: 'patch_metadata', ...fields }));

const tombstoneArb = fc
  .record({ id: idArb, at: atArb })
  .map((f): ContextCommand => ({ type: 'tombstone', ...f }));

const ackArb = fc
  .record({ id: idArb, upto_seq: fc.integer({ min: 0, max: 60 }), tail_keep: fc.integer({ min: 0, max: 6 }) })
  .map((fields): ContextCommand => ({ type: 'ack_archived', ...fields }));

export const commandArb: fc.Arbitrary<ContextCommand> = fc.oneof(
  { weight: 3, arbitrary: putArb },
  { weight: 24, arbitrary: appendArb },
  { weight: 3, arbitrary: compactArb },
  { weight: 2, arbitrary: patchArb },
  { weight: 1, arbitrary: tombstoneArb },
  { weight: 3, arbitrary: ackArb },
);

/** Both contexts are created first so most commands hit something. */
export const scriptArb = fc
  .tuple(
    putArb.map((c) => ({ ...c, id: 'a' })),
    putArb.map((c) => ({ ...c, id: 'b' })),
    fc.array(commandArb, { minLength: 1, maxLength: 60 }),
  )
  .map(([a, b, rest]) => [a, b, ...rest]);

/** Resolves `if_version: -1` against the group; never mutates the generated command. */
export function concretize(cmd: ContextCommand, group: ContextGroup): ContextCommand {
  if ((cmd.type === 'append' || cmd.type === 'compact') && cmd.if_version === -1) {
    return { ...cmd, if_version: group.version(cmd.id) ?? 0 };
  }
  return cmd;
}
