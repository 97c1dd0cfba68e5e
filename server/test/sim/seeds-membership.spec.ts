import { seedBatch } from './seed-batch.js';

// The membership profile (see src/sim/scenario.ts): seeds 1..400, one file per profile so profiles run in parallel.
seedBatch('membership', 1, 400);
