import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * Environment configuration, validated once at start-up. A bad value stops the
 * process with a message that names the variable.
 */
const port = (name: string) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a port number`)
    .transform(Number)
    .refine((n) => n >= 0 && n <= 65_535, `${name} must be between 0 and 65535`);

const EnvSchema = z.object({
  PORT: port('PORT').default('4000'),
  HOST: z.string().min(1).default('0.0.0.0'),
  FASTPACA_NODE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,128}$/, 'FASTPACA_NODE_NAME may only contain A-Z, a-z, 0-9, ".", "_" and "-"')
    .optional(),
  FASTPACA_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  port: number;
  host: string;
  node_name: string;
  log_level: z.infer<typeof EnvSchema>['FASTPACA_LOG_LEVEL'];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment. Empty strings count as unset, as in most shells' `VAR=`. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = EnvSchema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = result.data;
  return {
    port: e.PORT,
    host: e.HOST,
    node_name: e.FASTPACA_NODE_NAME ?? randomUUID(),
    log_level: e.FASTPACA_LOG_LEVEL,
  };
}
