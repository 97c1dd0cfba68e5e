import { z } from 'zod';
import { limits } from '../limits.js';

export const ContextIdSchema = z
  .string()
  .min(1, 'id must not be empty')
  .max(limits.context_id_length_max, `id must be at most ${limits.context_id_length_max} characters`)
  .regex(limits.context_id_pattern, 'id may only contain A-Z, a-z, 0-9, ".", "_", ":" and "-"')
  .describe('Context id: 1–256 characters of `[A-Za-z0-9._:-]`.');

export const ContextPathParamsSchema = z.object({ id: ContextIdSchema });

/** How deeply `value` nests arrays and objects (a scalar is 0), counting at most up to `max + 1`. */
export function jsonDepth(value: unknown, max: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const d = depth + 1;
    if (d > deepest) deepest = d;
    if (d > max) return d;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d]);
  }
  return deepest;
}

/**
 * Free-form JSON is stored, replicated and re-encoded many times; bounding its
 * nesting keeps every encoder away from its recursion limit, so pathological
 * input is a 400 at the edge instead of a failure deep inside the node.
 */
export function boundedJson<T extends z.ZodTypeAny>(schema: T): z.ZodEffects<T, z.output<T>, z.input<T>> {
  return schema.superRefine((value, ctx) => {
    if (jsonDepth(value, limits.json_depth_max) > limits.json_depth_max) {
      ctx.addIssue({ code: 'custom', message: `nested deeper than ${limits.json_depth_max} levels` });
    }
  }) as z.ZodEffects<T, z.output<T>, z.input<T>>;
}

/** A JSON object with arbitrary values (metadata). Arrays and null are rejected. */
export const MetadataSchema = boundedJson(z.record(z.string(), z.unknown())).describe(
  'Free-form JSON object.',
);

export const TimestampSchema = z.string().datetime({ offset: true }).describe('RFC 3339 timestamp.');

export const VersionSchema = z
  .number()
  .int('must be an integer')
  .min(0)
  .max(limits.version_max)
  .describe('Optimistic-concurrency token: +1 on every append, compaction and config/metadata change.');

export const SeqSchema = z
  .number()
  .int()
  .min(1)
  .describe('Dense, strictly increasing message number (1, 2, 3, …).');

/**
 * Query strings arrive as text. Only canonical decimal integers are turned into
 * numbers, so `"abc"`, `""` and `"1.5"` fail with a type error instead of being
 * coerced to `NaN` or `0` the way `z.coerce` would.
 */
export function queryInt(schema: z.ZodNumber) {
  return z.preprocess((value) => {
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
    return value;
  }, schema);
}

/** Query booleans: `true`/`false`/`1`/`0`. */
export function queryBool() {
  return z.preprocess((value) => {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    return value;
  }, z.boolean());
}
