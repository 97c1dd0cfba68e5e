import { initContract } from '@ts-rest/core';
import { ErrorBodySchema } from '../errors.js';
import { ClusterSchema, DrainResponseSchema, NodePathParamsSchema } from '../schemas/cluster.schema.js';

const c = initContract();

const errors = {
  400: ErrorBodySchema,
  401: ErrorBodySchema,
  403: ErrorBodySchema,
  429: ErrorBodySchema,
  500: ErrorBodySchema,
  503: ErrorBodySchema,
} as const;

export const clusterContract = c.router(
  {
    getCluster: {
      method: 'GET',
      path: '/v1/cluster',
      responses: { 200: ClusterSchema, ...errors },
      summary: 'Show the cluster',
      description:
        'Requires the API key. The cluster id, every node (address, up or down, state, groups led and held), the ' +
        'coordinator, and each group’s replicas and leader, as the answering node sees them. A single node answers ' +
        'with itself.',
    },
    drainNode: {
      method: 'POST',
      path: '/v1/cluster/nodes/:name/drain',
      pathParams: NodePathParamsSchema,
      body: c.noBody(),
      responses: { 202: DrainResponseSchema, 404: ErrorBodySchema, 409: ErrorBodySchema, ...errors },
      summary: 'Drain a node',
      description:
        'Requires the API key. Moves every replica off the node, then removes it from the cluster (watch ' +
        '`GET /v1/cluster`: it turns `removed`). Answers 202 once draining is decided. 404 for an unknown node; 409 ' +
        'on a single node, or when draining it would leave a group without a node to move to.',
    },
  },
  { strictStatusCodes: true },
);

export type ClusterContract = typeof clusterContract;
