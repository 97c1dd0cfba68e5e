/**
 * Wire-level limits. They live in the contract so that the server, the SDK and
 * the OpenAPI document all reject the same inputs for the same reasons.
 */
export const limits = {
  context_id_length_max: 256,
  context_id_pattern: /^[A-Za-z0-9._:-]+$/,
  role_length_max: 64,
  part_type_length_max: 128,
  parts_per_message_max: 1_000,
  page_limit_max: 1_000,
  page_limit_default: 100,
  token_budget_max: 100_000_000,
  token_count_max: 100_000_000,
  policy_limit_max: 100_000,
  policy_limit_default: 200,
  skip_kinds_max: 64,
  replacement_messages_max: 1_000,
  turn_messages_max: 100,
  json_depth_max: 64,
  idempotency_key_length_max: 255,
  idempotency_key_pattern: /^[\x21-\x7e]+$/,
  /**
   * A context remembers an idempotency key for at least this long after its
   * append (by the proposer's clock), and always its last 1,000 keys. A retry
   * sent later may be applied twice, so the SDK stops retrying well before.
   */
  idempotency_retention_ms: 600_000,
  idempotency_keys_retained_min: 1_000,
  token_ttl_seconds_max: 86_400,
  token_ttl_seconds_default: 3_600,
  trigger_ratio_default: 0.7,
  version_max: Number.MAX_SAFE_INTEGER,
} as const;
