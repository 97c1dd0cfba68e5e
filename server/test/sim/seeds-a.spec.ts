import { seedBatch } from './seed-batch.js';

// Mixed faults: seeds 1..600 (one of four files, so they run in parallel).
seedBatch(1, 600);
