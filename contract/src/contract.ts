import { contextsContract } from './routes/contexts.contract.js';

/** The root ts-rest router of the Fastpaca API. */
export const contract = contextsContract;
export type Contract = typeof contract;
