/** Counts tokens of text. Implementations are pure and deterministic. */
export interface TokenEstimator {
  /** Canonical form of the spec it was built from, e.g. `tiktoken:o200k_base` or `chars:4`. */
  readonly spec: string;
  countText(text: string): number;
}
