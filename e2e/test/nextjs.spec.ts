import { createClient, type FastpacaClient, loadChat, randomId } from '@fastpaca/sdk';
import { type ServerProcess, startServerProcess, stopServerProcess } from '@fastpaca/server/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, launchBrowser } from '../src/browser.js';
import { freePort, type NextApp, startNextApp } from '../src/nextjs-app.js';

/**
 * The Next.js example in a real browser: useChat with FastpacaChatTransport,
 * the route handler keeping turns in a real store, the page following the
 * chat live (cross-origin, with scoped tokens that expire every few seconds).
 */
const apiKey = 'e2e-nextjs-api-key-0123456789abcdef';
const tokenTtlSeconds = 4;
let store: ServerProcess;
let app: NextApp;
let browser: Browser;
let admin: FastpacaClient;

beforeAll(async () => {
  const port = await freePort();
  store = await startServerProcess({
    env: {
      FASTPACA_API_KEY: apiKey,
      FASTPACA_CORS_ORIGINS: `http://127.0.0.1:${port}`,
      // Expired tokens are cut at the next ping: ping every second so the expiry shows within the test.
      FASTPACA_STREAM_PING_INTERVAL_MS: '1000',
    },
  });
  [app, browser] = await Promise.all([
    startNextApp(port, {
      FASTPACA_URL: store.url,
      FASTPACA_API_KEY: apiKey,
      CHAT_TOKEN_TTL_SECONDS: String(tokenTtlSeconds),
      CHAT_OFFLINE_DELAY_MS: '60',
    }),
    launchBrowser(),
  ]);
  admin = createClient({ baseUrl: store.url, apiKey });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
  if (store) await stopServerProcess(store);
});

async function open(chatId: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 800 } });
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${app.url}/chat/${chatId}`);
  await page.locator('[data-testid=connection-status][data-status=live]').waitFor({ timeout: 20_000 });
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.locator('[data-testid=composer-input]').fill(text);
  await page.keyboard.press('Enter');
}

const reply = (page: Page, said: string) =>
  page.locator('[data-testid=message][data-role=assistant]', { hasText: `You said “${said}”` });

async function stored(chatId: string, count: number) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const messages = await loadChat(admin.contextHandle(chatId));
    if (messages.length === count || Date.now() > deadline) return messages;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('examples/nextjs in Chromium', () => {
  it('send: the reply streams with its reasoning and a tool call, and the whole turn is stored', async () => {
    const chatId = `next-${randomId()}`;
    const page = await open(chatId);
    await send(page, 'hello there');
    const answer = reply(page, 'hello there');
    await answer.waitFor({ timeout: 20_000 });
    await page.locator('[data-testid=send]').waitFor({ timeout: 20_000 });
    await expect(
      answer.locator('[data-testid=part-tool][data-tool=clock]').getAttribute('data-state'),
    ).resolves.toBe('output-available');
    expect(await answer.locator('[data-testid=part-reasoning]').count()).toBe(1);
    await page.screenshot({ path: artifactPath('nextjs-chat.png') });

    const messages = await stored(chatId, 2);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(messages[1]?.parts.map((part) => part.type)).toEqual([
      'step-start',
      'reasoning',
      'tool-clock',
      'step-start',
      'text',
    ]);
    await page.close();
  });

  it('stop mid-reply keeps the partial reply; a reload brings the history back, rendered on the server', async () => {
    const chatId = `next-${randomId()}`;
    const page = await open(chatId);
    await send(page, 'count slowly');
    await reply(page, 'count slowly').waitFor({ timeout: 20_000 });
    await page.locator('[data-testid=stop]').click();
    const messages = await stored(chatId, 2);
    expect(messages[1]?.metadata).toEqual({ partial: true });
    const partialText = messages[1]!.parts.map((part) => ('text' in part ? part.text : '')).join('');
    expect(partialText).toContain('You said “count slowly”');
    expect(partialText).not.toContain('so you can stop it.');
    await page.locator('[data-testid=message][data-partial=true]').waitFor({ timeout: 10_000 });

    // The first HTML already has the conversation (loadChat in the server component).
    const html = await (await fetch(`${app.url}/chat/${chatId}`)).text();
    expect(html).toContain('count slowly');
    await page.reload();
    await page.locator('[data-testid=connection-status][data-status=live]').waitFor({ timeout: 20_000 });
    const rows = page.locator('[data-testid=message]');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(1).getAttribute('data-partial')).toBe('true');
    await page.close();
  });

  it('a second tab follows live, and keeps following after its token expires', async () => {
    const chatId = `next-${randomId()}`;
    const tabA = await open(chatId);
    const tabB = await open(chatId);
    let tokenRequests = 0;
    tabB.on('request', (request) => {
      if (request.url().endsWith('/token')) tokenRequests++;
    });
    await send(tabA, 'first');
    await reply(tabB, 'first').waitFor({ timeout: 20_000 });

    // Past the token's lifetime: the store closes the stream, the page reconnects with a fresh token.
    await new Promise((resolve) => setTimeout(resolve, (tokenTtlSeconds + 2) * 1000));
    await tabA.locator('[data-testid=send]').waitFor({ timeout: 20_000 });
    await send(tabA, 'second');
    await reply(tabB, 'second').waitFor({ timeout: 20_000 });
    expect(tokenRequests).toBeGreaterThanOrEqual(1);
    expect(await tabB.locator('[data-testid=connection-status]').getAttribute('data-status')).toBe('live');
    expect(await tabB.locator('[data-testid=message]').count()).toBe(4);
    await tabA.close();
    await tabB.close();
  });

  it('bad input gets a 400 that names the problem', async () => {
    const response = await fetch(`${app.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'x',
        trigger: 'submit-message',
        message: { id: 'm1', role: 'assistant', parts: [] },
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { code: 'invalid_request', message: 'message.role: must be "user"' },
    });
    const post = (body: unknown) =>
      fetch(`${app.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const text = (id: string) => ({ id, role: 'user', parts: [{ type: 'text', text: 'hi' }] });
    // A browser cannot take the id of a stored message, nor regenerate (hide) any reply but the newest.
    const taken = await post({ id: 'x', trigger: 'submit-message', message: text('fastpaca-1') });
    expect(taken.status).toBe(400);
    const regenerate = await post({
      id: `next-${randomId()}`,
      trigger: 'regenerate-message',
      messageId: 'someone-elses-reply',
      message: text('m2'),
    });
    expect(regenerate.status).toBe(400);
    expect(await regenerate.json()).toMatchObject({
      error: { message: 'messageId: only the newest reply can be regenerated' },
    });
  });
});
