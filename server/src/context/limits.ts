/**
 * Limits of the replicated state. They are part of the state machine: every
 * replica must use the same values, so they are constants, not configuration.
 */
export const engineLimits = {
  /** Idempotency keys remembered per context (oldest forgotten first). */
  idempotency_keys_max: 1_000,
  /** Messages one append command may carry. */
  append_messages_max: 1_000,
  /** Nesting depth beyond which two JSON values are treated as different. */
  json_depth_max: 256,
  /** Largest `at` whose ISO string is still a 4-digit-year RFC 3339 timestamp. */
  timestamp_ms_max: 253_402_300_799_999,
} as const;
