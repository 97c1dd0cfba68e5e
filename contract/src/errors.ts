import { z } from 'zod';

/**
 * The one catalogue of error codes. Every error the API returns uses one of
 * these codes with exactly this HTTP status.
 */
export const errorStatus = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  upgrade_required: 426,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;
export const errorCodes = Object.keys(errorStatus) as [ErrorCode, ...ErrorCode[]];

export const ErrorCodeSchema = z.enum(errorCodes);

export const ErrorBodySchema = z
  .object({
    error: ErrorCodeSchema.describe('Machine-readable error code; one code always maps to one HTTP status.'),
    message: z.string().describe('Human-readable explanation naming the failing field or condition.'),
    details: z
      .unknown()
      .optional()
      .describe(
        'Structured detail: `{expected, found}` for version conflicts; `{outcome: "unknown" | "not_applied"}` on 503s of writes.',
      ),
  })
  .describe('Every error response has this shape. Never a stack trace.');

export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Details of a `409 conflict` caused by an `if_version` mismatch. */
export const VersionConflictDetailsSchema = z.object({
  expected: z.number().int(),
  found: z.number().int(),
});
export type VersionConflictDetails = z.infer<typeof VersionConflictDetailsSchema>;

/**
 * Details of a `503 unavailable` for a write: `not_applied` means the write
 * never took effect and can be retried; `unknown` means it may still commit,
 * so only idempotent writes (appends with their idempotency key, PUT, PATCH,
 * DELETE) should be retried blindly.
 */
export const UnavailableDetailsSchema = z.object({ outcome: z.enum(['unknown', 'not_applied']) });
export type UnavailableDetails = z.infer<typeof UnavailableDetailsSchema>;
