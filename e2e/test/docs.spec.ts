import type { ServerProcess } from '@fastpaca/server/testing';
import { startServerProcess } from '@fastpaca/server/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { artifactPath, launchBrowser } from '../src/browser.js';

describe('docs – API reference in a real browser', () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServerProcess();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
  });

  it('renders every route, including POST /v1/contexts/{id}/messages', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (req) => failed.push(req.url()));
    await page.goto(`${server.url}/docs`);
    const append = page.locator('.opblock-post', { hasText: '/v1/contexts/{id}/messages' });
    await append.first().waitFor({ timeout: 20_000 });
    expect(await append.first().locator('.opblock-summary-method').innerText()).toBe('POST');
    // One block per operation the server's own OpenAPI document declares.
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const methods = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);
    const operations = Object.values(document.paths).flatMap((item) =>
      Object.keys(item).filter((key) => methods.has(key)),
    );
    expect(operations.length).toBeGreaterThanOrEqual(13);
    expect(await page.locator('.opblock').count()).toBe(operations.length);
    await page.screenshot({ path: artifactPath('docs.png'), fullPage: true });
    expect(failed).toEqual([]);
  });

  it('expands the append route to show its request example', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/docs`);
    const append = page.locator('.opblock-post', { hasText: '/v1/contexts/{id}/messages' }).first();
    await append.locator('.opblock-summary').click();
    await expect.poll(async () => append.innerText(), { timeout: 10_000 }).toContain('if_version');
    expect(await append.innerText()).toContain('Idempotency');
  });
});
