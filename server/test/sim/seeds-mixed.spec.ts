import { seedBatch } from './seed-batch.js';

// The mixed profile (see src/sim/scenario.ts): seeds 1..700, one file per profile so profiles run in parallel.
seedBatch('mixed', 1, 700);
