import { defaultPolicy, type Policy, PolicySchema } from '@fastpaca/contract';

/**
 * Fills the policy's defaults and freezes it, so views can share the stored
 * object without anyone changing replicated state through them.
 */
export function normalizePolicy(
  input: unknown,
): { ok: true; policy: Policy } | { ok: false; message: string } {
  const parsed = PolicySchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue === undefined || issue.path.length === 0 ? '' : `.${issue.path.join('.')}`;
    return { ok: false, message: `policy${path}: ${issue?.message ?? 'invalid policy'}` };
  }
  return { ok: true, policy: freezePolicy(parsed.data) };
}

export function freezePolicy(policy: Policy): Policy {
  if (policy.strategy === 'skip_parts') Object.freeze(policy.config.skip_kinds);
  Object.freeze(policy.config);
  return Object.freeze(policy);
}

export const frozenDefaultPolicy: Policy = freezePolicy(structuredClone(defaultPolicy));
