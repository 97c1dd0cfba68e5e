#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import type { FastpacaClient } from '@fastpaca/sdk';
import { FastpacaError } from '@fastpaca/sdk';
import { flag, globalOptions, type OptionSpecs, parseOptions, splitCommand, UsageError } from './args.js';
import { connect, resolveConnection } from './client.js';
import type { Command } from './commands/command.js';
import { findCommand, groups, subcommands } from './commands/index.js';
import { ExitCode, errorCode, errorMessage, exitCodeFor } from './exit-codes.js';
import { commandHelp, groupHelp, mainHelp } from './help.js';
import { Output } from './output.js';

interface Io {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
}

/** What is known of the invocation so far, for reporting a failure. */
interface Invocation {
  json: boolean;
  /** The command (or group) named, for the `--help` hint of a usage error. */
  name: string | undefined;
}

const topLevelOptions: OptionSpecs = {
  ...globalOptions,
  version: { type: 'boolean', description: 'Print the version' },
};

function version(): string {
  const path = new URL('../package.json', import.meta.url);
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

/** Which command argv names, and the arguments left for it; help and --version are answered here. */
function resolve(
  argv: readonly string[],
  io: Io,
  invocation: Invocation,
): { command: Command; args: string[] } | number {
  const { leading, command: word, rest } = splitCommand(argv);
  if (word === undefined) {
    const { values } = parseOptions(leading, topLevelOptions);
    if (flag(values, 'version')) {
      io.stdout.write(
        flag(values, 'json') ? `${JSON.stringify({ version: version() })}\n` : `fastpaca ${version()}\n`,
      );
      return ExitCode.ok;
    }
    (flag(values, 'help') ? io.stdout : io.stderr).write(mainHelp());
    return flag(values, 'help') ? ExitCode.ok : ExitCode.usage;
  }
  if (word === 'help') {
    const topic = rest.join(' ');
    const command = findCommand(topic);
    if (topic === '') io.stdout.write(mainHelp());
    else if (command) io.stdout.write(commandHelp(command));
    else if (groups.has(topic)) io.stdout.write(groupHelp(topic));
    else throw new UsageError(`unknown command '${topic}'`);
    return ExitCode.ok;
  }
  invocation.name = word;
  let name = word;
  let args = rest;
  if (groups.has(word)) {
    const sub = rest[0];
    if (sub === undefined || sub.startsWith('-')) {
      if ([...leading, ...rest].some((arg) => arg === '--help' || arg === '-h')) {
        io.stdout.write(groupHelp(word));
        return ExitCode.ok;
      }
      throw new UsageError(`'${word}' needs a command: ${subcommands(word).join(', ')}`);
    }
    name = `${word} ${sub}`;
    args = rest.slice(1);
  }
  const command = findCommand(name);
  if (!command) throw new UsageError(`unknown command '${name}'`);
  invocation.name = name;
  return { command, args: [...leading, ...args] };
}

/** Runs one invocation and returns its exit code; never throws. */
async function run(argv: readonly string[], io: Io): Promise<number> {
  const invocation: Invocation = { json: argv.includes('--json'), name: undefined };
  try {
    const resolved = resolve(argv, io, invocation);
    if (typeof resolved === 'number') return resolved;
    const { command, args } = resolved;
    const { values, positionals } = parseOptions(args, { ...globalOptions, ...command.options });
    invocation.json = flag(values, 'json');
    if (flag(values, 'help')) {
      io.stdout.write(commandHelp(command));
      return ExitCode.ok;
    }
    const connection = resolveConnection(values, io.env);
    let client: FastpacaClient | undefined;
    await command.run({
      values,
      positionals,
      out: new Output(invocation.json, io.stdout, io.stderr),
      client: () => {
        client ??= connect(connection);
        return client;
      },
      stdin: io.stdin,
    });
    return ExitCode.ok;
  } catch (error) {
    return report(error, io, invocation);
  }
}

/** One line on stderr (a JSON object with --json), and the exit code that classifies the failure. */
function report(error: unknown, io: Io, invocation: Invocation): number {
  const code = exitCodeFor(error);
  let message = errorMessage(error);
  // The request id finds a server-side failure in the server's logs; for the other codes it is noise.
  if (code === ExitCode.error && FastpacaError.isInstance(error) && error.requestId)
    message += ` (request id ${error.requestId})`;
  if (invocation.json) {
    io.stderr.write(`${JSON.stringify({ error: { code: errorCode(error), message, exit_code: code } })}\n`);
    return code;
  }
  io.stderr.write(`fastpaca: ${message}\n`);
  if (code === ExitCode.usage) {
    io.stderr.write(`Run 'fastpaca ${invocation.name ? `${invocation.name} ` : ''}--help' for usage.\n`);
  } else if (code === ExitCode.error && !FastpacaError.isInstance(error) && error instanceof Error) {
    // Not an answer from the server: most likely a bug here, and the stack is what a report needs.
    io.stderr.write(`${error.stack}\n`);
  }
  return code;
}

/** Resolves once everything written to `stream` has been handed to the OS. */
function flushed(stream: Writable): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

// A reader that went away (`fastpaca export x | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(ExitCode.ok);
  throw error;
});
const code = await run(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
// Exit now rather than when idle keep-alive sockets or a paused stdin let go.
process.exit(code);
