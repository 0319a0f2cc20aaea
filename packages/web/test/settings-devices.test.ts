/**
 * Settings, "Devices and tokens", in Chromium: an admin creates a device key, copies its base URL
 * (shown this once), the URL works from another host of the LAN, and revoking it stops it.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, claimNode, ensureWebBuilt, launchBrowser, skipBrowser } from './helpers/browser.js';
import { startTestNode, type TestNode } from './helpers/node.js';

/** A host of the home network (the benchmarking range, as every test host). */
const LAN_HOST = '198.18.0.9';
/** A home-network name that Chromium resolves to this machine, so the page is not a secure context. */
const LAN_NAME = 'kitchen.local';

const suiteName = skipBrowser
  ? `devices and tokens in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'devices and tokens in Chromium';

describe.skipIf(skipBrowser)(suiteName, () => {
  let t: TestNode;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;
  let port: string;

  /** A request from another machine of the home, to the path of a base URL. */
  const fromLan = (baseUrl: string, path: string) =>
    t.node.http.inject({ url: `${new URL(baseUrl).pathname}${path}`, remoteAddress: LAN_HOST });

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    t = await startTestNode({ name: 'kitchen', sim: { profile: 'fast', models: ['llama3.2:3b'] } });
    port = new URL(t.node.url).port;
    chrome = await launchBrowser([`--host-resolver-rules=MAP ${LAN_NAME} 127.0.0.1`]);
    context = await chrome.browser.newContext({ locale: 'en-US' });
    context.setDefaultTimeout(20_000);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.node.url });
    page = await context.newPage();
    await page.goto(`${t.node.url}/`);
    // The first admin may be created from loopback; the setup is then finished through the API.
    await claimNode(page, 'kitchen');
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await chrome?.close();
    await t?.teardown();
  });

  it('should create a device key, copy its base URL once, and revoke it', async () => {
    await page.goto(`${t.node.url}/settings`);
    await page.getByRole('heading', { name: 'Devices and tokens' }).waitFor();
    await page.getByLabel('Kind').selectOption('device');
    // A device chats unless the admin chooses otherwise.
    expect(await page.getByLabel('Role').first().inputValue()).toBe('member');
    await page.getByLabel('Device or token name').fill('living-room');
    await page.getByLabel('Expires').selectOption('90d');
    await page.getByRole('button', { name: 'Create device key' }).click();

    const ollamaRow = page.getByTestId('device-url-ollama');
    const ollamaUrl = (await ollamaRow.locator('code').textContent())?.trim() ?? '';
    expect(ollamaUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/k/alrk_[A-Za-z0-9_-]{43}$`));
    const openaiUrl = (await page.getByTestId('device-url-openai').locator('code').textContent())?.trim();
    expect(openaiUrl).toBe(`${ollamaUrl}/v1`);
    // The node listens on loopback here, so the page says other machines cannot reach it yet.
    await page.getByText('--http-host 0.0.0.0').waitFor();

    await ollamaRow.getByRole('button', { name: 'Copy' }).click();
    await ollamaRow.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(ollamaUrl);

    // What was copied is a working base URL for a host of the LAN.
    expect((await fromLan(ollamaUrl, '/api/tags')).statusCode).toBe(200);
    const row = page.getByRole('row', { name: /living-room/ });
    await row.getByText('active').waitFor();
    expect(await row.textContent()).toContain('Device');
    expect(await row.textContent()).toContain('Member');

    // Shown once: after a reload the key is nowhere on the page, the row is.
    await page.reload();
    await row.waitFor();
    expect(await page.getByTestId('device-url-ollama').count()).toBe(0);
    expect(await page.content()).not.toContain(new URL(ollamaUrl).pathname.slice(3));

    await row.getByRole('button', { name: 'Revoke' }).click();
    await row.getByText('revoked').waitFor();
    expect((await fromLan(ollamaUrl, '/api/tags')).statusCode).toBe(401);
  });

  it('should copy without the clipboard API, and address the URL as the page was reached', async () => {
    // http://kitchen.local is not a secure context: no navigator.clipboard, the copy command instead.
    const lanPage = await context.newPage();
    try {
      await lanPage.goto(`http://${LAN_NAME}:${port}/`);
      await lanPage.evaluate(async () => {
        const login = await fetch('/auth/login', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ username: 'ana', password: 'correct horse battery' }),
        });
        if (!login.ok) throw new Error(`login: ${login.status}`);
      });
      await lanPage.goto(`http://${LAN_NAME}:${port}/settings`);
      expect(await lanPage.evaluate(() => window.isSecureContext)).toBe(false);
      await lanPage.getByLabel('Kind').selectOption('device');
      await lanPage.getByLabel('Device or token name').fill('speaker');
      await lanPage.getByRole('button', { name: 'Create device key' }).click();
      const row = lanPage.getByTestId('device-url-openai');
      const url = (await row.locator('code').textContent())?.trim() ?? '';
      expect(url).toMatch(new RegExp(`^http://${LAN_NAME}:${port}/k/alrk_[A-Za-z0-9_-]{43}/v1$`));
      await row.getByRole('button', { name: 'Copy' }).click();
      await row.getByRole('button', { name: 'Copied' }).waitFor();
      // Read back where the clipboard API exists: the loopback page of the same browser.
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    } finally {
      await lanPage.close();
    }
  });
});
