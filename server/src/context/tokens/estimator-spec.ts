import { encodingForModel } from './model-encodings.js';

/** The tiktoken encodings the estimator can count with. */
export const tiktokenEncodings = [
  'o200k_base',
  'cl100k_base',
  'p50k_base',
  'p50k_edit',
  'r50k_base',
] as const;
export type TiktokenEncoding = (typeof tiktokenEncodings)[number];

export type EstimatorSpec =
  | { kind: 'tiktoken'; encoding: TiktokenEncoding; spec: string }
  | { kind: 'chars'; chars_per_token: number; spec: string };

export const defaultEstimatorSpec = 'tiktoken:gpt-4o';

/** Upper bound for `chars:<n>`; anything larger would count every message as one token. */
const chars_per_token_max = 1_000_000;

const accepted =
  `accepted: "tiktoken:<encoding>" with one of ${tiktokenEncodings.join(', ')}; ` +
  '"tiktoken:<model>" with an OpenAI model name such as gpt-4o, gpt-4o-mini, gpt-4.1, o1, o3, gpt-4, ' +
  'gpt-3.5-turbo or text-davinci-003; ' +
  `or "chars:<n>" with n a whole number from 1 to ${chars_per_token_max}`;

/** A token estimator spec that names nothing the server can count with. */
export class EstimatorSpecError extends Error {
  override readonly name = 'EstimatorSpecError';
}

/**
 * Validates an estimator spec such as `tiktoken:gpt-4o`, `tiktoken:cl100k_base`
 * or `chars:4`, and resolves model names to their encoding. Throws an
 * `EstimatorSpecError` naming the spec and listing what is accepted.
 */
export function parseEstimatorSpec(spec: string): EstimatorSpec {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const arg = colon < 0 ? '' : spec.slice(colon + 1);
  if (kind === 'tiktoken') {
    const encoding = encodingFor(arg);
    if (encoding === undefined) throw specError(spec, `unknown model or encoding "${arg}"`);
    return { kind: 'tiktoken', encoding, spec: `tiktoken:${encoding}` };
  }
  if (kind === 'chars') {
    const n = /^[1-9]\d{0,6}$/.test(arg) ? Number(arg) : Number.NaN;
    if (!(n <= chars_per_token_max))
      throw specError(spec, `"${arg}" is not a whole number of characters per token`);
    return { kind: 'chars', chars_per_token: n, spec: `chars:${n}` };
  }
  throw specError(spec, `unknown estimator kind "${kind}"`);
}

function encodingFor(name: string): TiktokenEncoding | undefined {
  if ((tiktokenEncodings as readonly string[]).includes(name)) return name as TiktokenEncoding;
  return encodingForModel(name);
}

function specError(spec: string, reason: string): EstimatorSpecError {
  return new EstimatorSpecError(`invalid token estimator "${spec}": ${reason}; ${accepted}`);
}
