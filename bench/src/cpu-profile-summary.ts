/**
 * Where a server's main thread spends its time, from a V8 CPU profile: each
 * sample is charged to a category by the script of its frame, and frames
 * without a category of their own (built-ins such as JSON.parse, node
 * internals such as socket writes) are charged to their nearest categorized
 * caller. So "HTTP (fastify)" includes parsing the JSON body fastify asked
 * for, and "token counting" everything gpt-tokenizer did.
 *
 *   npx tsx bench/src/cpu-profile-summary.ts <file.cpuprofile> [requests]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { f1, table } from './report-format.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const packages = (names: string[]) => new RegExp(`/node_modules/(${names.join('|')})/`);

/** First match wins; the order puts specific libraries before the server's own folders. */
const categories: [string, (url: string) => boolean][] = [
  ['token counting (gpt-tokenizer)', (u) => u.includes('/node_modules/gpt-tokenizer/')],
  ['request validation (zod)', (u) => u.includes('/node_modules/zod/')],
  ['contract routing (ts-rest)', (u) => u.includes('/node_modules/@ts-rest/')],
  [
    'HTTP (fastify, node:http)',
    (u) =>
      packages([
        'fastify',
        '@fastify/[^/]+',
        'find-my-way',
        'avvio',
        'fast-json-stringify',
        'secure-json-parse',
        'fast-content-type-parse',
        'fast-querystring',
        'light-my-request',
        'toad-cache',
      ]).test(u) ||
      u.startsWith('node:_http') ||
      u.startsWith('node:internal/http'),
  ],
  ['encoding (msgpackr)', (u) => u.includes('/node_modules/msgpackr/')],
  ['logging (pino)', (u) => u.includes('/node_modules/pino')],
  ['metrics (prom-client)', (u) => u.includes('/node_modules/prom-client/') || u.includes('/dist/metrics/')],
  ['Raft core', (u) => u.includes('/dist/raft/')],
  [
    'replication I/O (host, WAL) and node link',
    (u) => u.includes('/dist/replication/') || u.includes('/dist/node-link/'),
  ],
  ['context engine (apply, window)', (u) => u.includes('/dist/context/')],
  ['node wiring (service, router, token counter)', (u) => u.includes('/dist/node/')],
  ['stream hub', (u) => u.includes('/dist/stream/')],
  ['server HTTP handlers', (u) => /\/dist\/(http|auth|errors)\//.test(u)],
  ['server, other', (u) => u.includes('/server/dist/')],
  ['other libraries', (u) => u.includes('/node_modules/')],
];
/** A Map, not an object: frames are named `toString` and `constructor` too. */
const special = new Map([
  ['(garbage collector)', 'garbage collection'],
  ['(program)', 'V8 and native, unattributed'],
  ['(idle)', 'idle'],
]);
const uncategorized_root = 'node core (sockets, timers, fs)';

export interface ProfileBreakdown {
  busy_ms: number;
  idle_ms: number;
  rows: { category: string; ms: number }[];
}

export function summarizeProfile(path: string): ProfileBreakdown {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const categoryOf = new Map<number, string>();
  const root = profile.nodes[0]!;
  // Depth-first from the root with an explicit stack (profiles can be deeper than the call stack allows).
  const stack: [ProfileNode, string][] = [[root, uncategorized_root]];
  while (stack.length > 0) {
    const [node, inherited] = stack.pop()!;
    const { functionName, url } = node.callFrame;
    const own = special.get(functionName) ?? categories.find(([, matches]) => matches(url))?.[0];
    const category = own ?? inherited;
    categoryOf.set(node.id, category);
    for (const child of node.children ?? []) stack.push([byId.get(child)!, category]);
  }
  const ms = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const category = categoryOf.get(profile.samples[i]!) ?? uncategorized_root;
    ms.set(category, (ms.get(category) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const idle = ms.get('idle') ?? 0;
  ms.delete('idle');
  const rows = [...ms].map(([category, t]) => ({ category, ms: t })).sort((a, b) => b.ms - a.ms);
  return { busy_ms: rows.reduce((n, r) => n + r.ms, 0), idle_ms: idle, rows };
}

/** A markdown table of the breakdown; with `requests`, also main-thread microseconds per request. */
export function breakdownTable(b: ProfileBreakdown, requests?: number): string {
  const header = ['main thread', 'share of busy time', ...(requests ? ['µs per request'] : [])];
  const rows = b.rows.map((r) => [
    r.category,
    `${f1((100 * r.ms) / b.busy_ms)} %`,
    ...(requests ? [f1((r.ms * 1000) / requests)] : []),
  ]);
  rows.push([
    '**busy total**',
    `100.0 % (idle ${f1((100 * b.idle_ms) / (b.busy_ms + b.idle_ms))} % of the window)`,
    ...(requests ? [f1((b.busy_ms * 1000) / requests)] : []),
  ]);
  return table(header, rows, ['l', 'r', 'r']);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, requests] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpu-profile-summary.ts <file.cpuprofile> [requests]');
  console.log(breakdownTable(summarizeProfile(file), requests ? Number(requests) : undefined));
}
