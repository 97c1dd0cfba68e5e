import { seedBatch } from './seed-batch.js';

// Mixed faults: seeds 1801..2400 (one of four files, so they run in parallel).
seedBatch(1801, 600);
