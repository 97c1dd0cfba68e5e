import { seedBatch } from './seed-batch.js';

// The figure8 profile (see src/sim/scenario.ts): seeds 1..250, one file per profile so profiles run in parallel.
seedBatch('figure8', 1, 250);
