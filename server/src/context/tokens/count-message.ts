import type { MessageInput, Part } from '@fastpaca/contract';
import type { PreparedMessage } from '../commands.js';
import type { TokenEstimator } from './estimator.js';

/**
 * Token count of each part: a `text` part counts its text, any other part its
 * JSON, which is roughly what a provider serializes for the model.
 */
export function countParts(estimator: TokenEstimator, parts: readonly Part[]): number[] {
  return parts.map((part) =>
    part.type === 'text' && typeof part.text === 'string'
      ? estimator.countText(part.text)
      : estimator.countText(JSON.stringify(part)),
  );
}

/** A message's count is the sum of its parts' counts. */
export function countMessage(estimator: TokenEstimator, parts: readonly Part[]): number {
  return countParts(estimator, parts).reduce((sum, n) => sum + n, 0);
}

/**
 * Turns a client message into the prepared form commands carry. A
 * client-supplied `token_count` is used verbatim and nothing is tokenized;
 * otherwise the parts are counted once, here, before the log.
 */
export function prepareMessage(estimator: TokenEstimator, input: MessageInput): PreparedMessage {
  if (input.token_count !== undefined) {
    return {
      role: input.role,
      parts: input.parts,
      metadata: input.metadata ?? {},
      token_count: input.token_count,
    };
  }
  return preparedWithCounts(input, countParts(estimator, input.parts));
}

/** The prepared form of a message whose parts were already counted (e.g. on a worker thread). */
export function preparedWithCounts(input: MessageInput, partTokens: number[]): PreparedMessage {
  return {
    role: input.role,
    parts: input.parts,
    metadata: input.metadata ?? {},
    token_count: partTokens.reduce((sum, n) => sum + n, 0),
    part_tokens: partTokens,
  };
}
