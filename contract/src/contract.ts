import { initContract } from '@ts-rest/core';
import { clusterContract } from './routes/cluster.contract.js';
import { contextsContract } from './routes/contexts.contract.js';

const c = initContract();

/** The root ts-rest router of the Fastpaca API: contexts, and the cluster's own routes. */
export const contract = c.router({ ...contextsContract, ...clusterContract });
export type Contract = typeof contract;
