import { seedBatch } from './seed-batch.js';

// The reads profile (see src/sim/scenario.ts): seeds 1..250, one file per profile so profiles run in parallel.
seedBatch('reads', 1, 250);
