import { parentPort } from 'node:worker_threads';
import type { SeedJob } from './cli.js';
import { runSeed } from './simulator.js';

/** A worker thread of `cli.ts`: runs the seeds it is sent, one at a time. */
parentPort!.on('message', async (job: SeedJob) => {
  const result = await runSeed(job.seed, { profile: job.profile, bugs: job.bugs, trace: job.trace });
  parentPort!.postMessage({ job, result });
});
