import { limits } from '@fastpaca/contract';

/**
 * Limits of the replicated state. They are part of the state machine: every
 * replica must use the same values, so they are constants, not configuration.
 */
export const engineLimits = {
  /**
   * Idempotency keys per context: the newest `min` are always kept, and older
   * ones while younger than `retention_ms` by command time, up to `max`
   * (which bounds memory on a context appended to very fast: 50,000 keys of
   * at most 255 bytes).
   */
  idempotency_keys_min: limits.idempotency_keys_retained_min,
  idempotency_keys_max: 50_000,
  idempotency_retention_ms: limits.idempotency_retention_ms,
  /** Messages one append command may carry. */
  append_messages_max: 1_000,
  /** Nesting depth beyond which two JSON values are treated as different. */
  json_depth_max: 256,
  /** Largest `at` whose ISO string is still a 4-digit-year RFC 3339 timestamp. */
  timestamp_ms_max: 253_402_300_799_999,
} as const;

/** The idempotency retention every context uses. */
export const idempotencyRetention = {
  min: engineLimits.idempotency_keys_min,
  max: engineLimits.idempotency_keys_max,
  retention_ms: engineLimits.idempotency_retention_ms,
} as const;
