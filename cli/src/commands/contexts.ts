import { limits, type PolicyInput } from '@fastpaca/contract';
import { type Context, NotFoundError, type Policy } from '@fastpaca/sdk';
import {
  contextId,
  intOption,
  jsonObjectOption,
  listOption,
  numberOption,
  type OptionValues,
  stringOption,
  takePositionals,
  UsageError,
} from '../args.js';
import { table } from '../output.js';
import type { Command } from './command.js';

/** Budget of a context created without `--budget`: the SDK quick start's 8k-token window. */
export const defaultBudget = 8_000;

export function describePolicy(policy: Policy): string {
  switch (policy.strategy) {
    case 'last_n':
      return `last_n (limit ${policy.config.limit})`;
    case 'skip_parts':
      return `skip_parts (skip ${policy.config.skip_kinds.join(',')}; limit ${policy.config.limit})`;
    case 'manual':
      return 'manual';
  }
}

export function formatContext(context: Context): string {
  return table([
    ['id', context.id],
    ['status', context.status],
    ['version', String(context.version)],
    ['last_seq', String(context.last_seq)],
    ['archived_seq', String(context.archived_seq)],
    ['token_budget', String(context.token_budget)],
    ['trigger_ratio', String(context.trigger_ratio)],
    ['policy', describePolicy(context.policy)],
    ['metadata', JSON.stringify(context.metadata)],
    ['created_at', context.created_at],
    ['updated_at', context.updated_at],
  ]);
}

/** `--policy` plus the flags that configure it; undefined leaves the policy as it is. */
function policyFrom(values: OptionValues): PolicyInput | undefined {
  const strategy = stringOption(values, 'policy');
  const limit = intOption(values, 'limit', { min: 1, max: limits.policy_limit_max });
  const skipKinds = listOption(values, 'skip-kinds');
  if (strategy === undefined) {
    if (limit !== undefined || skipKinds !== undefined) {
      throw new UsageError('--limit and --skip-kinds configure a policy: give --policy too');
    }
    return undefined;
  }
  switch (strategy) {
    case 'last_n':
      if (skipKinds !== undefined) throw new UsageError('--skip-kinds applies to --policy skip_parts only');
      return { strategy, config: limit === undefined ? {} : { limit } };
    case 'skip_parts':
      return {
        strategy,
        config: {
          ...(limit !== undefined && { limit }),
          ...(skipKinds !== undefined && { skip_kinds: skipKinds }),
        },
      };
    case 'manual':
      if (limit !== undefined || skipKinds !== undefined) {
        throw new UsageError('--policy manual takes neither --limit nor --skip-kinds');
      }
      return { strategy, config: {} };
    default:
      throw new UsageError(`--policy must be last_n, skip_parts or manual, got '${strategy}'`);
  }
}

const create: Command = {
  name: 'contexts create',
  args: '<id>',
  summary: 'Create a context, or change settings of an existing one',
  details:
    'One idempotent PUT. Settings not given keep their current value on an existing context (the\n' +
    `budget too), and take the server's defaults on a new one (budget ${defaultBudget}, trigger 0.7,\n` +
    'policy last_n with limit 200, metadata {}).',
  options: {
    budget: { type: 'string', value: '<tokens>', description: 'Token budget of the LLM window' },
    trigger: {
      type: 'string',
      value: '<ratio>',
      description: 'Compact when the window exceeds budget × ratio, in (0, 1]',
    },
    policy: { type: 'string', value: '<strategy>', description: 'last_n, skip_parts or manual' },
    limit: { type: 'string', value: '<n>', description: 'Messages a last_n or skip_parts window keeps' },
    'skip-kinds': {
      type: 'string',
      value: '<a,b>',
      description: 'Part type prefixes skip_parts removes (default reasoning,tool)',
    },
    metadata: { type: 'string', value: '<json>', description: 'Replace the metadata with this JSON object' },
  },
  examples: [
    'fastpaca contexts create chat-42 --budget 16000',
    'fastpaca contexts create agent-7 --policy skip_parts --skip-kinds reasoning,tool- --limit 100',
    'fastpaca contexts create chat-42 --metadata \'{"user":"u-1"}\'',
  ],
  async run({ values, positionals, out, client }) {
    const [raw] = takePositionals(positionals, ['<id>']);
    const id = contextId(raw!);
    const trigger = numberOption(values, 'trigger');
    if (trigger !== undefined && !(trigger > 0 && trigger <= 1)) {
      throw new UsageError(`--trigger must be in (0, 1], got ${trigger}`);
    }
    const policy = policyFrom(values);
    const metadata = jsonObjectOption(values, 'metadata');
    const handle = client().contextHandle(id);
    // The PUT always carries a budget; read the current one so an update without --budget keeps it.
    let budget = intOption(values, 'budget', { min: 1, max: limits.token_budget_max });
    if (budget === undefined) {
      try {
        budget = (await handle.get()).token_budget;
      } catch (error) {
        if (!NotFoundError.isInstance(error)) throw error;
        budget = defaultBudget;
      }
    }
    const context = await handle.configure({
      budget,
      ...(trigger !== undefined && { trigger }),
      ...(policy !== undefined && { policy }),
      ...(metadata !== undefined && { metadata }),
    });
    await out.result(context, () => formatContext(context));
  },
};

const get: Command = {
  name: 'contexts get',
  args: '<id>',
  summary: 'Show a context: settings, metadata, version, last_seq, status',
  options: {},
  examples: ['fastpaca contexts get chat-42', 'fastpaca contexts get chat-42 --json'],
  async run({ positionals, out, client }) {
    const [raw] = takePositionals(positionals, ['<id>']);
    const context = await client().contextHandle(contextId(raw!)).get();
    await out.result(context, () => formatContext(context));
  },
};

const remove: Command = {
  name: 'contexts delete',
  args: '<id>',
  summary: 'Delete (tombstone) a context: appends are refused, history stays readable',
  options: {},
  examples: ['fastpaca contexts delete chat-42'],
  async run({ positionals, out, client }) {
    const [raw] = takePositionals(positionals, ['<id>']);
    const id = contextId(raw!);
    await client().contextHandle(id).delete();
    await out.result(
      { id, deleted: true },
      () => `deleted ${id} (history stays readable; appends are refused)`,
    );
  },
};

export const contextCommands: Command[] = [create, get, remove];
