import { seedBatch } from './seed-batch.js';

// Mixed faults: seeds 601..1200 (one of four files, so they run in parallel).
seedBatch(601, 600);
