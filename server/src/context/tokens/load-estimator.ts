import type { TokenEstimator } from './estimator.js';
import { type EstimatorSpec, parseEstimatorSpec, type TiktokenEncoding } from './estimator-spec.js';

type CountFn = (text: string) => number;
type GptTokenizerCount = (text: string, options: { disallowedSpecial: Set<string> }) => number;

/**
 * Special-token strings in user text (`<|endoftext|>`...) are counted as the
 * ordinary text they are, as tiktoken's `encode_ordinary` does, instead of
 * being rejected.
 */
const ordinary = { disallowedSpecial: new Set<string>() };

/** One encoder per encoding for the life of the process: building one costs ~100 ms and tens of MB. */
const encoders = new Map<TiktokenEncoding, Promise<CountFn>>();

/**
 * Builds the estimator a spec names (see `parseEstimatorSpec`). Encoders are
 * imported on first use, so a process loads only the encoding it counts with,
 * and are cached. Rejects with `EstimatorSpecError` for a bad spec.
 */
export async function loadEstimator(spec: string | EstimatorSpec): Promise<TokenEstimator> {
  const parsed = typeof spec === 'string' ? parseEstimatorSpec(spec) : spec;
  if (parsed.kind === 'chars') {
    const n = parsed.chars_per_token;
    return { spec: parsed.spec, countText: (text) => Math.ceil(text.length / n) };
  }
  let encoder = encoders.get(parsed.encoding);
  if (encoder === undefined) {
    encoder = importEncoding(parsed.encoding).then(
      (count) => (text: string) => (text === '' ? 0 : count(text, ordinary)),
    );
    encoders.set(parsed.encoding, encoder);
  }
  const count = await encoder;
  return { spec: parsed.spec, countText: count };
}

async function importEncoding(encoding: TiktokenEncoding): Promise<GptTokenizerCount> {
  switch (encoding) {
    case 'o200k_base':
      return (await import('gpt-tokenizer/encoding/o200k_base')).countTokens;
    case 'cl100k_base':
      return (await import('gpt-tokenizer/encoding/cl100k_base')).countTokens;
    case 'p50k_base':
      return (await import('gpt-tokenizer/encoding/p50k_base')).countTokens;
    case 'p50k_edit':
      return (await import('gpt-tokenizer/encoding/p50k_edit')).countTokens;
    case 'r50k_base':
      return (await import('gpt-tokenizer/encoding/r50k_base')).countTokens;
  }
}
