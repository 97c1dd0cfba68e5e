import { appendCommand } from './append.js';
import { clusterCommands } from './cluster.js';
import type { Command } from './command.js';
import { contextCommands } from './contexts.js';
import { exportCommand } from './export.js';
import { followCommand } from './follow.js';
import { importCommand } from './import.js';
import { tailCommand } from './tail.js';
import { tokenCommands } from './tokens.js';
import { windowCommand } from './window.js';

/** Every command, in the order help lists them. */
export const commands: readonly Command[] = [
  ...contextCommands,
  appendCommand,
  windowCommand,
  tailCommand,
  followCommand,
  exportCommand,
  importCommand,
  ...tokenCommands,
  ...clusterCommands,
];

/** Words that take a subcommand (`contexts`, `tokens`, `cluster`). */
export const groups: ReadonlySet<string> = new Set(
  commands.filter((command) => command.name.includes(' ')).map((command) => command.name.split(' ')[0]!),
);

export function findCommand(name: string): Command | undefined {
  return commands.find((command) => command.name === name);
}

/** `create`, `get`, … of a group. */
export function subcommands(group: string): string[] {
  return commands
    .filter((command) => command.name.startsWith(`${group} `))
    .map((command) => command.name.slice(group.length + 1));
}
