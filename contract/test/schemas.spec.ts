import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  AppendBodySchema,
  AppendResultSchema,
  CompactBodySchema,
  CompactResultSchema,
  ContextIdSchema,
  ContextSchema,
  CreateTokenBodySchema,
  ErrorBodySchema,
  examples,
  MessageInputSchema,
  MessagesPageSchema,
  MessagesQuerySchema,
  PatchMetadataBodySchema,
  PutContextBodySchema,
  StreamQuerySchema,
  StreamServerFrameSchema,
  TailQuerySchema,
  TailResponseSchema,
  TokenResponseSchema,
  WindowQuerySchema,
  WindowSchema,
} from '../src/index.js';

function issuePaths(schema: z.ZodTypeAny, value: unknown): string[] {
  const result = schema.safeParse(value);
  expect(result.success, `expected ${JSON.stringify(value)?.slice(0, 80)} to be rejected`).toBe(false);
  return result.success ? [] : result.error.issues.map((i) => i.path.join('.'));
}

const text = (t: string) => ({ type: 'text', text: t });

describe('schemas – documented examples are accepted', () => {
  it.each([
    ['PUT body', PutContextBodySchema, examples.putContext.request],
    ['PUT body skip_parts', PutContextBodySchema, examples.putContextSkipParts],
    ['PUT body manual', PutContextBodySchema, examples.putContextManual],
    ['context', ContextSchema, examples.putContext.response],
    ['PATCH body', PatchMetadataBodySchema, examples.patchMetadata.request],
    ['append body', AppendBodySchema, examples.appendMessage.request],
    ['append tool result', AppendBodySchema, examples.appendToolResult],
    ['append result', AppendResultSchema, examples.appendMessage.response],
    ['tail', TailResponseSchema, examples.getTail.response],
    ['messages page', MessagesPageSchema, examples.listMessages.response],
    ['window', WindowSchema, examples.getWindow.response],
    ['compact body', CompactBodySchema, examples.compact.request],
    ['compact result', CompactResultSchema, examples.compact.response],
    ['token body', CreateTokenBodySchema, examples.createToken.request],
    ['token response', TokenResponseSchema, examples.createToken.response],
  ] as const)('%s', (_name, schema, value) => {
    expect(schema.safeParse(value).success).toBe(true);
  });

  it('every error example passes the error schema', () => {
    for (const body of Object.values(examples.errors)) expect(ErrorBodySchema.parse(body)).toEqual(body);
  });

  it('every stream frame example passes the frame schema', () => {
    for (const frame of examples.frames) expect(StreamServerFrameSchema.parse(frame)).toEqual(frame);
  });

  it('the minimal PUT body fills nothing in (defaults are applied by the server on create)', () => {
    expect(PutContextBodySchema.parse({ token_budget: 1000 })).toEqual({ token_budget: 1000 });
  });

  it('policy config defaults are filled in', () => {
    expect(PutContextBodySchema.parse({ token_budget: 10, policy: { strategy: 'last_n' } }).policy).toEqual({
      strategy: 'last_n',
      config: { limit: 200 },
    });
    expect(
      PutContextBodySchema.parse({ token_budget: 10, policy: { strategy: 'skip_parts' } }).policy,
    ).toEqual({
      strategy: 'skip_parts',
      config: { skip_kinds: ['reasoning', 'tool'], limit: 200 },
    });
  });

  it('keeps every extra field of a part (ai-sdk UIMessage parts)', () => {
    const part = {
      type: 'tool-weather',
      toolCallId: 'c1',
      state: 'output-available',
      input: { a: [1] },
      output: 'x',
    };
    expect(MessageInputSchema.parse({ role: 'assistant', parts: [part] }).parts[0]).toEqual(part);
  });

  it('ignores unknown top-level message fields such as ai-sdk ids', () => {
    expect(MessageInputSchema.parse({ id: 'm1', role: 'user', parts: [text('hi')] })).toEqual({
      role: 'user',
      parts: [text('hi')],
    });
  });
});

describe('schemas – bad input is rejected and names the field', () => {
  it('role with a control character', () => {
    for (const role of ['us\u0000er', 'user\n', '\u007f']) {
      expect(issuePaths(MessageInputSchema, { role, parts: [text('x')] })).toContain('role');
    }
    expect(MessageInputSchema.parse({ role: 'tool · ünï', parts: [text('x')] }).role).toBe('tool · ünï');
  });

  it('message without role', () => {
    expect(issuePaths(AppendBodySchema, { message: { parts: [text('x')] } })).toContain('message.role');
  });

  it('empty parts', () => {
    expect(issuePaths(AppendBodySchema, { message: { role: 'user', parts: [] } })).toContain('message.parts');
  });

  it('part without type', () => {
    expect(issuePaths(AppendBodySchema, { message: { role: 'user', parts: [{ text: 'x' }] } })).toContain(
      'message.parts.0.type',
    );
  });

  it('part with a non-string type', () => {
    expect(issuePaths(MessageInputSchema, { role: 'user', parts: [{ type: 7 }] })).toContain('parts.0.type');
  });

  it('parts that are not objects', () => {
    expect(issuePaths(MessageInputSchema, { role: 'user', parts: ['hello'] })).toContain('parts.0');
  });

  it('non-integer if_version', () => {
    expect(
      issuePaths(AppendBodySchema, { message: { role: 'user', parts: [text('x')] }, if_version: 1.5 }),
    ).toContain('if_version');
    expect(issuePaths(CompactBodySchema, { replacement: [], if_version: '3' })).toContain('if_version');
    expect(issuePaths(WindowQuerySchema, { if_version: '2.5' })).toContain('if_version');
  });

  it('negative and out-of-range limits', () => {
    expect(issuePaths(TailQuerySchema, { limit: '-1' })).toContain('limit');
    expect(issuePaths(TailQuerySchema, { limit: '0' })).toContain('limit');
    expect(issuePaths(TailQuerySchema, { limit: '1001' })).toContain('limit');
    expect(issuePaths(MessagesQuerySchema, { limit: 'ten' })).toContain('limit');
    expect(issuePaths(TailQuerySchema, { offset: '-3' })).toContain('offset');
    expect(issuePaths(MessagesQuerySchema, { after_seq: '-1' })).toContain('after_seq');
  });

  it('query numbers are not coerced from junk', () => {
    expect(issuePaths(TailQuerySchema, { limit: '' })).toContain('limit');
    expect(issuePaths(TailQuerySchema, { limit: '1e3' })).toContain('limit');
    expect(issuePaths(TailQuerySchema, { limit: '99999999999999999999999' })).toContain('limit');
  });

  it('unknown query parameters', () => {
    expect(issuePaths(TailQuerySchema, { limt: '5' })).toEqual(['']);
  });

  it('ids with "/" or longer than 256 characters, empty, or non-ASCII', () => {
    for (const id of ['a/b', 'x'.repeat(257), 'x'.repeat(300), '', 'café', 'a b', 'a?b', '../etc']) {
      expect(ContextIdSchema.safeParse(id).success, id).toBe(false);
    }
    for (const id of ['a', 'chat:42', 'user.1_2-3', 'x'.repeat(256)]) {
      expect(ContextIdSchema.safeParse(id).success, id).toBe(true);
    }
  });

  it('token budget must be a positive integer', () => {
    for (const token_budget of [0, -5, 1.5, '100', null, 1e12]) {
      expect(issuePaths(PutContextBodySchema, { token_budget })).toContain('token_budget');
    }
    expect(issuePaths(PutContextBodySchema, {})).toContain('token_budget');
  });

  it('trigger ratio must be in (0, 1]', () => {
    for (const trigger_ratio of [0, -0.1, 1.01, '0.5']) {
      expect(issuePaths(PutContextBodySchema, { token_budget: 10, trigger_ratio })).toContain(
        'trigger_ratio',
      );
    }
    expect(PutContextBodySchema.safeParse({ token_budget: 10, trigger_ratio: 1 }).success).toBe(true);
  });

  it('unknown policy strategy names the allowed ones', () => {
    const result = PutContextBodySchema.safeParse({ token_budget: 10, policy: { strategy: 'lru' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain('last_n');
    expect(result.error?.issues[0]?.path.join('.')).toBe('policy.strategy');
  });

  it('bad policy config', () => {
    expect(
      issuePaths(PutContextBodySchema, {
        token_budget: 10,
        policy: { strategy: 'last_n', config: { limit: 0 } },
      }),
    ).toContain('policy.config.limit');
    expect(
      issuePaths(PutContextBodySchema, {
        token_budget: 10,
        policy: { strategy: 'manual', config: { limit: 5 } },
      }),
    ).toContain('policy.config');
    expect(
      issuePaths(PutContextBodySchema, {
        token_budget: 10,
        policy: { strategy: 'skip_parts', config: { skip_kinds: 'tool' } },
      }),
    ).toContain('policy.config.skip_kinds');
  });

  it('metadata must be an object', () => {
    for (const metadata of [[1], 'x', 3, null]) {
      expect(issuePaths(PatchMetadataBodySchema, { metadata })).toContain('metadata');
    }
  });

  it('unknown body fields are rejected (typos do not pass silently)', () => {
    expect(
      issuePaths(AppendBodySchema, { message: { role: 'user', parts: [text('x')] }, ifVersion: 3 }),
    ).toEqual(['']);
    expect(issuePaths(PutContextBodySchema, { token_budget: 10, budget: 5 })).toEqual(['']);
  });

  it('token_count must be a non-negative integer', () => {
    for (const token_count of [-1, 2.5, '4']) {
      expect(issuePaths(MessageInputSchema, { role: 'user', parts: [text('x')], token_count })).toContain(
        'token_count',
      );
    }
  });

  it('token requests need known rights and a bounded ttl', () => {
    expect(issuePaths(CreateTokenBodySchema, { rights: [] })).toContain('rights');
    expect(issuePaths(CreateTokenBodySchema, { rights: ['admin'] })).toContain('rights.0');
    expect(issuePaths(CreateTokenBodySchema, { rights: ['read'], ttl_seconds: 0 })).toContain('ttl_seconds');
    expect(issuePaths(CreateTokenBodySchema, { rights: ['read'], ttl_seconds: 86_401 })).toContain(
      'ttl_seconds',
    );
  });

  it('idempotency keys are bounded printable ASCII', () => {
    const body = { message: { role: 'user', parts: [text('x')] } };
    expect(issuePaths(AppendBodySchema, { ...body, idempotency_key: '' })).toContain('idempotency_key');
    expect(issuePaths(AppendBodySchema, { ...body, idempotency_key: 'a b' })).toContain('idempotency_key');
    expect(issuePaths(AppendBodySchema, { ...body, idempotency_key: 'k'.repeat(256) })).toContain(
      'idempotency_key',
    );
  });

  it('stream cursor must be a non-negative integer', () => {
    expect(issuePaths(StreamQuerySchema, { cursor: '-1' })).toContain('cursor');
    expect(issuePaths(StreamQuerySchema, { cursor: 'abc' })).toContain('cursor');
    expect(StreamQuerySchema.parse({ cursor: '12', include_messages: 'false' })).toEqual({
      cursor: 12,
      include_messages: false,
    });
  });
});

describe('schemas – properties', () => {
  it('any id of allowed characters and length is accepted; any other character is rejected', () => {
    const allowed = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-'.split('');
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...allowed), { minLength: 1, maxLength: 256 }), (chars) => {
        expect(ContextIdSchema.safeParse(chars.join('')).success).toBe(true);
      }),
      { seed: 42, numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }).filter((c) => !allowed.includes(c)),
        fc.string({ maxLength: 20 }),
        (a, bad, b) => {
          expect(ContextIdSchema.safeParse(`${a}${bad}${b}`).success).toBe(false);
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('a valid message input always round-trips through JSON unchanged', () => {
    const part = fc
      .record({ type: fc.string({ minLength: 1, maxLength: 20 }), text: fc.string() })
      .map((p) => ({ ...p }));
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 64 }),
        fc.array(part, { minLength: 1, maxLength: 5 }),
        (role, parts) => {
          const input = { role, parts };
          const parsed = MessageInputSchema.parse(JSON.parse(JSON.stringify(input)));
          expect(parsed).toEqual(input);
        },
      ),
      { seed: 7, numRuns: 200 },
    );
  });
});

describe('schemas – integers stay exact', () => {
  it('rejects query integers beyond 2^53 - 1 instead of rounding them', () => {
    expect(issuePaths(TailQuerySchema, { offset: '9007199254740993' })).toContain('offset');
    expect(issuePaths(MessagesQuerySchema, { after_seq: '9007199254740993' })).toContain('after_seq');
    expect(issuePaths(StreamQuerySchema, { cursor: '9007199254740993' })).toContain('cursor');
    expect(TailQuerySchema.parse({ offset: '9007199254740991' }).offset).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('schemas – nesting is bounded', () => {
  const nest = (depth: number): unknown => (depth === 0 ? 'leaf' : { a: nest(depth - 1) });
  it('parts and metadata may nest up to 64 levels, not deeper', () => {
    const ok = { role: 'user', parts: [{ type: 'data', value: nest(62) }], metadata: { m: nest(62) } };
    expect(MessageInputSchema.safeParse(ok).success).toBe(true);
    expect(
      issuePaths(MessageInputSchema, { role: 'user', parts: [{ type: 'data', value: nest(200) }] }),
    ).toContain('parts.0');
    expect(
      issuePaths(MessageInputSchema, { role: 'user', parts: [{ type: 't' }], metadata: { m: nest(1_000) } }),
    ).toContain('metadata');
    const arrays = JSON.parse(`${'['.repeat(3_000)}${']'.repeat(3_000)}`);
    expect(issuePaths(MessageInputSchema, { role: 'user', parts: [{ type: 'x', arrays }] })).toContain(
      'parts.0',
    );
  });
});
