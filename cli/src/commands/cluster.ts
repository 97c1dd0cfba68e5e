import type { ClusterView } from '@fastpaca/sdk';
import { flag, takePositionals } from '../args.js';
import { table } from '../output.js';
import type { Command } from './command.js';

/** A one-word verdict plus the numbers behind it, computed from the view alone. */
export function clusterHealth(view: ClusterView) {
  const active = view.nodes.filter((node) => node.state === 'active');
  const nodesUp = active.filter((node) => node.status === 'up').length;
  const groupsLed = view.groups.filter((group) => group.leader !== null).length;
  const coordinated = view.mode === 'single' || view.coordinator !== null;
  const ok = nodesUp === active.length && groupsLed === view.groups.length && coordinated;
  return {
    status: ok ? ('ok' as const) : ('degraded' as const),
    nodes_up: nodesUp,
    nodes_active: active.length,
    groups_with_leader: groupsLed,
    groups: view.groups.length,
  };
}

function formatCluster(view: ClusterView, health: ReturnType<typeof clusterHealth>, groups: boolean): string {
  const summary = table([
    ['mode', view.mode],
    ['cluster_id', view.cluster_id ?? '-'],
    ['answered by', view.node],
    ['coordinator', view.coordinator ?? (view.mode === 'single' ? '-' : 'none (no meta leader)')],
    [
      'health',
      `${health.status}: ${health.nodes_up}/${health.nodes_active} active nodes up, ` +
        `${health.groups_with_leader}/${health.groups} groups have a leader`,
    ],
  ]);
  const nodes = table([
    ['NODE', 'ADDRESS', 'STATE', 'STATUS', 'LEADS', 'REPLICAS'],
    ...view.nodes.map((node) => [
      node.name + (node.coordinator ? ' *' : ''),
      node.address || '-',
      node.state,
      node.status,
      String(node.groups_led),
      String(node.groups_replicated),
    ]),
  ]);
  const parts = [summary, '', nodes];
  if (groups) {
    parts.push(
      '',
      table([
        ['GROUP', 'LEADER', 'REPLICAS'],
        ...view.groups.map((group) => [
          String(group.group),
          group.leader ?? '(none)',
          group.replicas.map((r) => (r.role === 'learner' ? `${r.node} (learner)` : r.node)).join(', '),
        ]),
      ]),
    );
  }
  return parts.join('\n');
}

const status: Command = {
  name: 'cluster status',
  args: '',
  summary: 'Show the nodes, the coordinator, group leaders and overall health (needs the API key)',
  details:
    'The cluster as the answering node sees it (GET /v1/cluster); on a single node, that node and its\n' +
    "256 groups. Health is 'ok' when every active node is up and every group has a leader, else\n" +
    "'degraded' (the exit code stays 0: the command worked). A * marks the coordinator.",
  options: { groups: { type: 'boolean', description: "List every group's leader and replicas" } },
  examples: ['fastpaca cluster status', 'fastpaca cluster status --groups', 'fastpaca cluster status --json'],
  async run({ values, positionals, out, client }) {
    takePositionals(positionals, []);
    const view = await client().cluster();
    const health = clusterHealth(view);
    await out.result({ ...view, health }, () => formatCluster(view, health, flag(values, 'groups')));
  },
};

export const clusterCommands: Command[] = [status];
