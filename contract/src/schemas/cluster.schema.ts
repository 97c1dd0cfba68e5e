import { z } from 'zod';

export const NodeNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9._-]{1,128}$/,
    'name may only contain A-Z, a-z, 0-9, ".", "_" and "-" (1–128 characters)',
  )
  .describe('A node name (`FASTPACA_NODE_NAME`).');

export const NodePathParamsSchema = z.object({ name: NodeNameSchema });

export const MemberStateSchema = z
  .enum(['active', 'draining', 'removed', 'replaced'])
  .describe(
    '`active`: holds and receives replicas. `draining`: its replicas are moving away, then it is `removed`. ' +
      '`replaced`: it came back with an empty disk under the same name, as a new node; the old one goes once its ' +
      'replicas are replaced.',
  );

export const ClusterNodeSchema = z.object({
  name: z.string(),
  id: z
    .string()
    .describe('The node as Raft knows it: `<name>~<incarnation>` in a cluster, the name on a single node.'),
  address: z.string().describe('host:port the other nodes reach it on.'),
  state: MemberStateSchema,
  status: z.enum(['up', 'down']).describe('Whether the answering node heard from it in the last 3 s.'),
  coordinator: z.boolean().describe('Whether it leads the meta group, and so decides placement.'),
  groups_led: z.number().int().describe('Context groups it leads.'),
  groups_replicated: z.number().int().describe('Context groups it holds a replica of (voter or learner).'),
});

export const ClusterReplicaSchema = z.object({
  node: z.string().describe('Name of the node holding the replica.'),
  replica: z.string().describe('Replica id; never reused.'),
  role: z.enum(['voter', 'learner']),
});

export const ClusterGroupSchema = z.object({
  group: z.number().int(),
  leader: z.string().nullable().describe('Name of the node leading the group, null while none is known.'),
  replicas: z.array(ClusterReplicaSchema),
});

export const ClusterSchema = z
  .object({
    mode: z.enum(['single', 'cluster']),
    cluster_id: z.string().nullable().describe('Fixed when the cluster first forms; null on a single node.'),
    node: z.string().describe('Name of the node that answered.'),
    coordinator: z
      .string()
      .nullable()
      .describe('Name of the coordinator node, null while the meta group has no leader.'),
    nodes: z.array(ClusterNodeSchema),
    groups: z
      .array(ClusterGroupSchema)
      .describe('The 256 context groups, as the answering node last heard of them.'),
    meta: ClusterGroupSchema.nullable().describe(
      'The meta group (members and placement decisions); null on a single node.',
    ),
  })
  .describe('The cluster as the answering node sees it.');

export const DrainResponseSchema = z.object({
  node: z.string(),
  state: MemberStateSchema,
});

export type ClusterView = z.infer<typeof ClusterSchema>;
export type ClusterNode = z.infer<typeof ClusterNodeSchema>;
export type ClusterGroup = z.infer<typeof ClusterGroupSchema>;
export type DrainResponse = z.infer<typeof DrainResponseSchema>;
