/**
 * Baseline "Redis lists": one list per context, RPUSH per append (its reply,
 * the list's length, is the seq) and LLEN + LRANGE of the newest
 * `window_messages_max` per window read, trimmed to the token budget here.
 * Nothing is fsynced: an acknowledged append lives in Redis's memory until
 * its own persistence (if any) writes it.
 *
 *   PORT=4100 REDIS_URL=redis://127.0.0.1:6379 BASELINE_PREFIX=fastpaca-bench:1: tsx src/redis-baseline-server.ts
 *
 * Keys live under BASELINE_PREFIX and are deleted on SIGTERM.
 */
import { createClient } from 'redis';
import {
  type BaselineStore,
  fitNewest,
  type MessageIn,
  type StoredMessage,
  serveBaseline,
} from './baseline-http.js';
import { window_messages_max, window_tokens_max } from './workload.js';

const prefix = process.env.BASELINE_PREFIX ?? '';
if (!/^fastpaca-bench:[A-Za-z0-9-]+:$/.test(prefix))
  throw new Error('BASELINE_PREFIX must be fastpaca-bench:<id>:');
/** Values per RPUSH when filling. */
const fill_values_per_command = 1_000;
/** Keys per SCAN step when cleaning up. */
const scan_count = 1_000;

const client = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
client.on('error', (error: Error) => {
  process.stderr.write(`redis baseline: ${error.message}\n`);
});
await client.connect();

const listKey = (id: string) => `${prefix}ctx:${id}`;
const knownKey = `${prefix}contexts`;

type Stored = Omit<StoredMessage, 'seq'>;

const store: BaselineStore = {
  async put(id) {
    await client.sAdd(knownKey, id);
  },
  async lastSeq(id) {
    const [known, length] = await client.multi().sIsMember(knownKey, id).lLen(listKey(id)).exec();
    return Number(known) === 1 ? Number(length) : undefined;
  },
  async append(id, m: MessageIn) {
    const stored: Stored = { ...m, inserted_at: new Date().toISOString() };
    return client.rPush(listKey(id), JSON.stringify(stored));
  },
  async window(id) {
    const [length, items] = (await client
      .multi()
      .lLen(listKey(id))
      .lRange(listKey(id), -window_messages_max, -1)
      .exec()) as unknown as [number, string[]];
    const first = Number(length) - items.length + 1;
    const newestFirst: StoredMessage[] = [];
    for (let i = items.length - 1; i >= 0; i--)
      newestFirst.push({ seq: first + i, ...(JSON.parse(items[i]!) as Stored) });
    return { version: Number(length), ...fitNewest(newestFirst, window_tokens_max) };
  },
  async fill(ids, generated) {
    const at = new Date().toISOString();
    const values = generated.map((m) => JSON.stringify({ ...m, inserted_at: at } satisfies Stored));
    for (const id of ids) {
      for (let from = 0; from < values.length; from += fill_values_per_command)
        await client.rPush(listKey(id), values.slice(from, from + fill_values_per_command));
    }
  },
  async close() {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: scan_count })) {
      if (keys.length > 0) await client.unlink(keys);
    }
    await client.quit();
  },
};

await serveBaseline(store);
