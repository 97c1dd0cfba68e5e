import { seedBatch } from './seed-batch.js';

// Mixed faults: seeds 1201..1800 (one of four files, so they run in parallel).
seedBatch(1201, 600);
