import { parseArgs } from 'node:util';
import { limits } from '@fastpaca/contract';

/** A mistake in how the tool was called (flags, arguments, input): exit code 2, with a pointer to `--help`. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** How the value is shown in help, e.g. `<n>`. */
  value?: string;
  description: string;
}

export type OptionSpecs = Record<string, OptionSpec>;
export type OptionValues = Record<string, string | boolean | undefined>;

/** Accepted before or after the command, by every command. */
export const globalOptions: OptionSpecs = {
  url: {
    type: 'string',
    value: '<url>',
    description: 'Server URL (env FASTPACA_URL; default http://127.0.0.1:4000)',
  },
  token: {
    type: 'string',
    value: '<token>',
    description: 'API key or scoped token (env FASTPACA_TOKEN, else FASTPACA_API_KEY)',
  },
  json: { type: 'boolean', description: 'Print JSON (one document, or JSON lines for streams)' },
  help: { type: 'boolean', short: 'h', description: 'Show help' },
};

/** Globals that take a value, so the command splitter knows to skip it. */
const globalsWithValue = new Set(
  Object.entries(globalOptions)
    .filter(([, spec]) => spec.type === 'string')
    .map(([name]) => `--${name}`),
);

/**
 * Splits argv into the globals written before the command, the command word
 * and everything after it. Option parsing proper happens once the command,
 * and so its options, is known.
 */
export function splitCommand(argv: readonly string[]): {
  leading: string[];
  command: string | undefined;
  rest: string[];
} {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--') {
    leading.push(argv[i]!);
    if (globalsWithValue.has(argv[i]!) && i + 1 < argv.length) leading.push(argv[++i]!);
    i++;
  }
  if (argv[i] === '--') i++;
  return { leading, command: argv[i], rest: argv.slice(i + 1) };
}

/** `parseArgs` in strict mode, with its errors turned into usage errors. */
export function parseOptions(
  args: readonly string[],
  options: OptionSpecs,
): { values: OptionValues; positionals: string[] } {
  const nodeOptions = Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [
      name,
      spec.short ? { type: spec.type, short: spec.short } : { type: spec.type },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: nodeOptions,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as OptionValues, positionals };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')) {
      // Node's advice on positionals that start with a dash is in the README; the first sentence names the problem.
      throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
    }
    throw error;
  }
}

/** The positionals a command expects, in order; extra ones are a usage error unless `rest` collects them. */
export function takePositionals(
  positionals: readonly string[],
  names: readonly string[],
  rest = false,
): string[] {
  if (positionals.length < names.length) throw new UsageError(`missing ${names[positionals.length]}`);
  if (!rest && positionals.length > names.length) {
    throw new UsageError(`unexpected argument '${positionals[names.length]}'`);
  }
  return [...positionals];
}

export function contextId(value: string): string {
  if (value.length > limits.context_id_length_max || !limits.context_id_pattern.test(value)) {
    throw new UsageError(
      `invalid context id '${value}': 1–${limits.context_id_length_max} characters of A-Z a-z 0-9 . _ : -`,
    );
  }
  return value;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function flag(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

/** An integer option within bounds; only plain decimal digits are accepted (no `1e3`, no `0x10`). */
export function intOption(
  values: OptionValues,
  name: string,
  bounds: { min: number; max?: number },
): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
  const value = /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < bounds.min || value > max) {
    const range = bounds.max === undefined ? `>= ${bounds.min}` : `${bounds.min}–${bounds.max}`;
    throw new UsageError(`--${name} must be an integer ${range}, got '${raw}'`);
  }
  return value;
}

export function numberOption(values: OptionValues, name: string): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got '${raw}'`);
  return value;
}

/** A JSON object given on the command line (metadata). */
export function jsonObjectOption(values: OptionValues, name: string): Record<string, unknown> | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new UsageError(`--${name} must be a JSON object, got '${raw}'`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`--${name} must be a JSON object, got '${raw}'`);
  }
  return parsed as Record<string, unknown>;
}

/** A comma-separated list, blanks dropped. */
export function listOption(values: OptionValues, name: string): string[] | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

const durationUnits: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** Seconds from `90`, `90s`, `15m`, `2h` or `1d`. */
export function durationOption(values: OptionValues, name: string): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const match = /^(\d+)([smhd]?)$/.exec(raw.trim());
  const seconds = match ? Number(match[1]) * durationUnits[match[2] || 's']! : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1) {
    throw new UsageError(`--${name} must be a duration such as 600, 90s, 15m, 2h or 1d, got '${raw}'`);
  }
  return seconds;
}
