#!/usr/bin/env node
import { PLANTED_BUG_NAMES, type PlantedBugName, plantedBugsForTesting } from '../node/planted-bugs.js';
import { runServer } from '../run-server.js';

/**
 * A server process with bugs planted on purpose, named in
 * FASTPACA_TEST_PLANTED_BUGS (comma-separated), for proving that the chaos
 * suite catches them. Test-only: the shipped entry point is `main.ts`, and
 * the container image leaves `testing/` out.
 */
const names = (process.env.FASTPACA_TEST_PLANTED_BUGS ?? '')
  .split(',')
  .map((name) => name.trim())
  .filter((name) => name !== '');
for (const name of names) {
  if (!(PLANTED_BUG_NAMES as readonly string[]).includes(name)) {
    process.stderr.write(
      `fastpaca: FASTPACA_TEST_PLANTED_BUGS: unknown bug ${name}; one of ${PLANTED_BUG_NAMES.join(', ')}\n`,
    );
    process.exit(2);
  }
}
process.stderr.write(`fastpaca: RUNNING WITH PLANTED BUGS: ${names.join(', ') || '(none)'}\n`);
void runServer({ planted: plantedBugsForTesting(names as PlantedBugName[]) });
