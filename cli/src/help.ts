import { globalOptions, type OptionSpecs } from './args.js';
import type { Command } from './commands/command.js';
import { commands } from './commands/index.js';
import { table } from './output.js';

const exitCodes = [
  ['0', 'success'],
  ['1', 'unexpected error (a bug, a server error)'],
  ['2', 'usage error: bad flags, arguments or input'],
  ['3', 'not found'],
  ['4', 'conflict: version mismatch, or the context is deleted'],
  ['5', 'unauthorized or forbidden'],
  ['6', 'server unavailable, unreachable or rate limited'],
];

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
}

function optionRows(options: OptionSpecs): string[][] {
  return Object.entries(options).map(([name, spec]) => [
    [spec.short ? `-${spec.short}, ` : '', `--${name}`, spec.value ? ` ${spec.value}` : ''].join(''),
    spec.description,
  ]);
}

function usage(command: Command): string {
  return `fastpaca ${command.name}${command.args ? ` ${command.args}` : ''} [options]`;
}

export function commandHelp(command: Command): string {
  const sections = [`Usage: ${usage(command)}`, '', command.summary + '.'];
  if (command.details) sections.push('', command.details);
  if (Object.keys(command.options).length > 0) {
    sections.push('', 'Options:', indent(table(optionRows(command.options))));
  }
  sections.push('', 'Global options:', indent(table(optionRows(globalOptions))));
  sections.push('', 'Examples:', indent(command.examples.join('\n')));
  return `${sections.join('\n')}\n`;
}

/** Help for `fastpaca <group>` alone: its subcommands. */
export function groupHelp(group: string): string {
  const members = commands.filter((command) => command.name.startsWith(`${group} `));
  const rows = members.map((command) => [usage(command), command.summary]);
  return `Usage: fastpaca ${group} <command> [options]\n\n${indent(table(rows))}\n`;
}

export function mainHelp(): string {
  const rows = commands.map((command) => [
    `${command.name}${command.args ? ` ${command.args}` : ''}`,
    command.summary,
  ]);
  return [
    'fastpaca: the Fastpaca Context Store from a terminal.',
    '',
    'Usage: fastpaca [global options] <command> [arguments] [options]',
    '',
    'Commands:',
    indent(table(rows)),
    '',
    'Global options (before or after the command):',
    indent(table([...optionRows(globalOptions), ['--version', 'Print the version']])),
    '',
    'Exit codes:',
    indent(table(exitCodes)),
    '',
    "Run 'fastpaca <command> --help' for a command's options and examples.",
    '',
  ].join('\n');
}
