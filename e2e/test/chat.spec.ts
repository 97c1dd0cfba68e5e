import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, launchBrowser } from '../src/browser.js';
import { type ChatApp, startChatApp } from '../src/chat-app.js';

let app: ChatApp;
let browser: Browser;
const chatId = `e2e-${Date.now().toString(36)}`;

beforeAll(async () => {
  // A small budget so three turns cross the compaction trigger; quick words so replies stream in about a second.
  [app, browser] = await Promise.all([
    startChatApp({ CHAT_TOKEN_BUDGET: '220', CHAT_OFFLINE_DELAY_MS: '20' }),
    launchBrowser(),
  ]);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

async function openChat(id = chatId): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 820 } });
  await page.goto(`${app.url}/?chat=${id}`);
  await page.locator('[data-testid=connection-status][data-status=live]').waitFor({ timeout: 20_000 });
  return page;
}

const usedTokens = async (page: Page) =>
  Number(await page.locator('[data-testid=token-meter]').getAttribute('data-used-tokens'));

/** Role, text and whether each stored row was partial, as the page shows them. */
async function transcript(page: Page): Promise<string[]> {
  const rows = page.locator('[data-testid=message][data-state=committed]');
  const out: string[] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    const role = await row.getAttribute('data-role');
    const partial = (await row.getAttribute('data-partial')) === 'true' ? ' (partial)' : '';
    out.push(`${role}${partial}: ${await row.locator('[data-testid=message-text]').innerText()}`);
  }
  return out;
}

async function send(page: Page, text: string): Promise<void> {
  await page.locator('[data-testid=composer-input]').fill(text);
  await page.keyboard.press('Enter');
}

/** Waits for the reply to `text`, checking that it was shown while it streamed, and returns it. */
async function awaitReply(page: Page, text: string): Promise<string> {
  const streaming = page.locator('[data-testid=message][data-role=assistant][data-state=streaming]');
  await streaming.waitFor({ timeout: 10_000 });
  const partway = await streaming.locator('[data-testid=message-text]').innerText();
  const reply = page.locator('[data-testid=message][data-role=assistant][data-state=committed]', {
    hasText: `You said “${text}”`,
  });
  await reply.waitFor({ timeout: 15_000 });
  const full = await reply.locator('[data-testid=message-text]').innerText();
  expect(full.startsWith(partway)).toBe(true);
  expect(partway.length).toBeLessThan(full.length);
  return full;
}

describe('chat example – in a real browser', () => {
  let first: Page;

  it('sends three messages, sees each reply stream in, and the token meter moves', async () => {
    first = await openChat();
    expect(await usedTokens(first)).toBe(0);
    const meter: number[] = [];
    for (const text of ['Hello there', 'What is a context window?']) {
      await send(first, text);
      await awaitReply(first, text);
      await expect.poll(() => usedTokens(first)).toBeGreaterThan(meter.at(-1) ?? 0);
      meter.push(await usedTokens(first));
    }

    // A second page on the same context, opened now, receives the third turn live.
    const second = await openChat();
    expect(await transcript(second)).toEqual(await transcript(first));
    await send(first, 'And a third one');
    await awaitReply(first, 'And a third one');
    await second
      .locator('[data-testid=message][data-role=assistant][data-state=committed]', {
        hasText: 'You said “And a third one”',
      })
      .waitFor({ timeout: 10_000 });
    await expect.poll(() => usedTokens(first)).toBeGreaterThan(meter.at(-1)!);
    await expect.poll(() => usedTokens(second)).toBe(await usedTokens(first));
    expect(await transcript(second)).toEqual(await transcript(first));
    expect(await transcript(first)).toHaveLength(6);
    await first.screenshot({ path: artifactPath('chat-conversation.png'), animations: 'disabled' });
    await second.screenshot({ path: artifactPath('chat-second-page.png'), animations: 'disabled' });
    await second.close();
  });

  it('a reload shows the same history, from the store', async () => {
    const before = await transcript(first);
    const tokens = await usedTokens(first);
    await first.reload();
    await first.locator('[data-testid=connection-status][data-status=live]').waitFor({ timeout: 20_000 });
    await expect.poll(() => transcript(first)).toEqual(before);
    expect(await usedTokens(first)).toBe(tokens);
  });

  it('"compact now" shrinks used_tokens and clears needs_compaction; the history stays', async () => {
    await first.locator('[data-testid=needs-compaction]').waitFor({ timeout: 5_000 });
    await first.screenshot({ path: artifactPath('chat-needs-compaction.png'), animations: 'disabled' });
    const history = await transcript(first);
    const before = await usedTokens(first);
    await first.locator('[data-testid=compact]').click();
    await expect.poll(() => usedTokens(first), { timeout: 10_000 }).toBeLessThan(before);
    await first.locator('[data-testid=needs-compaction]').waitFor({ state: 'detached', timeout: 5_000 });
    await first.locator('[data-testid=compaction-note]').waitFor();
    expect(await transcript(first)).toEqual(history);
    await first.screenshot({ path: artifactPath('chat-compacted.png'), animations: 'disabled' });
  });

  it('stop mid-reply keeps the partial reply, also after a reload', async () => {
    await send(first, 'Tell me a long story');
    const streaming = first.locator('[data-testid=message][data-role=assistant][data-state=streaming]');
    await expect.poll(async () => (await streaming.innerText().catch(() => '')).length).toBeGreaterThan(60);
    await first.locator('[data-testid=stop]').click();
    await first.locator('[data-testid=send]').waitFor();
    const lastReply = first.locator('[data-testid=message][data-role=assistant]').last();
    const shown = await lastReply.locator('[data-testid=message-text]').innerText();
    await first
      .locator('[data-testid=message][data-role=assistant][data-state=committed][data-partial=true]')
      .waitFor({ timeout: 10_000 });
    await first.reload();
    await first.locator('[data-testid=connection-status][data-status=live]').waitFor({ timeout: 20_000 });
    const stored = first.locator('[data-testid=message][data-role=assistant][data-partial=true]').last();
    await stored.waitFor();
    const text = await stored.locator('[data-testid=message-text]').innerText();
    expect(text.startsWith(shown)).toBe(true);
    expect(text).toMatch(/^Once upon a time/);
    expect(text.length).toBeLessThan(700);
    expect(await stored.getAttribute('data-state')).toBe('committed');
    await first.screenshot({ path: artifactPath('chat-partial.png'), animations: 'disabled' });
  });

  it('a tab closed mid-reply: the reply so far is stored and shown next time', async () => {
    const id = `${chatId}-closed`;
    const page = await openChat(id);
    await send(page, 'Tell me a long story');
    const streaming = page.locator('[data-testid=message][data-role=assistant][data-state=streaming]');
    await expect.poll(async () => (await streaming.innerText().catch(() => '')).length).toBeGreaterThan(60);
    const shown = await streaming.locator('[data-testid=message-text]').innerText();
    await page.close();
    const again = await openChat(id);
    const stored = again.locator('[data-testid=message][data-role=assistant][data-partial=true]');
    await stored.waitFor({ timeout: 10_000 });
    expect((await stored.locator('[data-testid=message-text]').innerText()).startsWith(shown)).toBe(true);
    expect(await transcript(again)).toHaveLength(2);
    await again.close();
  });
});
