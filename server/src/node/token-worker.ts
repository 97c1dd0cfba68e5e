import { workerData } from 'node:worker_threads';
import type { Part } from '@fastpaca/contract';
import { countParts } from '../context/tokens/count-message.js';
import { loadEstimator } from '../context/tokens/load-estimator.js';

/** Worker-thread side of the token counter: counts the parts of one large message. */
const estimator = await loadEstimator((workerData as { spec: string }).spec);

export default function countLargeMessage(parts: Part[]): number[] {
  return countParts(estimator, parts);
}
