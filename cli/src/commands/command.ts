import type { Readable } from 'node:stream';
import type { FastpacaClient } from '@fastpaca/sdk';
import type { OptionSpecs, OptionValues } from '../args.js';
import type { Output } from '../output.js';

/** What a command gets to run with. */
export interface RunContext {
  /** Global and command options, parsed. */
  values: OptionValues;
  positionals: string[];
  out: Output;
  /** The SDK client for `--url` and `--token`, created on first use so usage errors never need a server. */
  client(): FastpacaClient;
  stdin: Readable & { isTTY?: boolean };
}

/**
 * One command. Its options feed both the parser and the help text; failures
 * are thrown and become exit codes in one place (`exit-codes.ts`).
 */
export interface Command {
  /** As typed: `append`, `contexts create`. */
  name: string;
  /** Positional arguments as shown in usage, e.g. `<id> [text...]`. */
  args: string;
  summary: string;
  /** Paragraphs shown by `--help` after the usage line. */
  details?: string;
  options: OptionSpecs;
  examples: string[];
  run(ctx: RunContext): Promise<void>;
}
