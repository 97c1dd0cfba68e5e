/**
 * Restart-to-ready on its own (the full suite runs it as scenario 4): fill a
 * node with M messages across C contexts, then time restarts after kill -9
 * and after SIGTERM, beside an empty node.
 *
 *   npm run -w @fastpaca/bench restart -- [--messages 100000[,1000000]] [--contexts 1000] [--write]
 */
import { parseArgs } from 'node:util';
import { LoadGenerator } from './load-client.js';
import { machineLine } from './measure.js';
import { restartScenario } from './restart-scenario.js';
import { appendResults } from './results-file.js';
import { default_seed } from './workload.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '100000' },
    contexts: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '64' },
    write: { type: 'boolean', default: false },
  },
});
const messages = values.messages.split(',').map(Number);
if (messages.some((m) => !(m > 0))) throw new Error('--messages must be positive numbers');

const loadgen = LoadGenerator.start();
try {
  const report = await restartScenario(loadgen, {
    messages,
    contexts: Number(values.contexts),
    connections: Number(values.concurrency),
    seed: default_seed,
  });
  const text = `\n### ${report.title}, ${new Date().toISOString()}\n\n${machineLine()}\n\n${report.markdown}\n`;
  console.log(text);
  if (values.write) appendResults(text);
} finally {
  loadgen.close();
}
