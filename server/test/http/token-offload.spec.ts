import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../src/testing/server-process.js';
import { jsonClient, text } from './client.js';

describe('token counting – large messages on the worker pool', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(async () => {
    await server?.stop();
    server?.cleanup();
  });

  const offloaded = async () => {
    const body = await fetch(`${server.url}/metrics`).then((r) => r.text());
    return Number(/^fastpaca_token_count_offloaded_total\{[^}]*\} (\d+)/m.exec(body)?.[1] ?? Number.NaN);
  };

  it('counts a large message off the event loop, exactly as inline counting would, while small appends go on', async () => {
    const api = jsonClient(server.url);
    await api.put('/v1/contexts/big', { token_budget: 10_000_000 });
    await api.put('/v1/contexts/small', { token_budget: 10_000 });
    expect(await offloaded()).toBe(0);
    const small = await api.post('/v1/contexts/small/messages', { message: text('hello world') });
    expect(small.body.token_estimate).toBe(countTokens('hello world'));
    expect(await offloaded()).toBe(0);

    const huge = 'The quick brown fox jumps over the lazy dog. 日本語のテキストも少し。 '.repeat(9_000);
    const [big, ...others] = await Promise.all([
      api.post('/v1/contexts/big/messages', { message: text(huge) }),
      ...Array.from({ length: 10 }, (_, i) =>
        api.post('/v1/contexts/small/messages', { message: text(`m${i}`) }),
      ),
    ]);
    expect(big.status).toBe(201);
    expect(big.body.token_estimate).toBe(countTokens(huge));
    for (const r of others) expect(r.status).toBe(201);
    expect(await offloaded()).toBe(1);
  });
});
