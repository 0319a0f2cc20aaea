/**
 * Issue #17, "the UI shows sleeping machines with a Wake button": office pairs with kitchen, says
 * it wakes on LAN, and goes to sleep (its node stops); kitchen's Agents page then shows it asleep,
 * with its models and a Wake button. The button is not clicked: a packet would leave loopback.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, claimNode, ensureWebBuilt, launchBrowser, skipBrowser } from './helpers/browser.js';
import { startTestNode, type TestNode, waitFor } from './helpers/node.js';

const suiteName = skipBrowser
  ? `sleeping machines in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'sleeping machines in Chromium';

describe.skipIf(skipBrowser)(suiteName, () => {
  let kitchen: TestNode;
  let office: TestNode | undefined;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    kitchen = await startTestNode({ name: 'kitchen', sim: { profile: 'fast', models: ['llama3.2:3b'] } });
    office = await startTestNode({
      name: 'office',
      sim: { profile: 'fast', models: ['mistral:7b'] },
      meshKeyFile: join(kitchen.dataDir, 'mesh.key'),
      bootstrap: kitchen.node.mesh.mesh.addresses(),
    });
    const officeId = office.node.mesh.mesh.peerId;
    // Office's first admin, from loopback, then its wake flags through Settings.
    const created = await office.node.http.inject({
      method: 'POST',
      url: '/auth/setup',
      payload: { username: 'olga', password: 'correct horse battery' },
    });
    expect(created.statusCode).toBe(201);
    const pairs = (created.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]!);
    const csrf = pairs.find((p) => p.startsWith('allerac_csrf='))!.split('=')[1]!;
    const flags = await office.node.http.inject({
      method: 'PATCH',
      url: '/allerac/v1/settings',
      headers: { cookie: pairs.join('; '), 'x-csrf-token': csrf },
      payload: { wakeOnLan: true, preferredWhenOn: true },
    });
    expect(flags.statusCode).toBe(200);
    await waitFor(
      () =>
        kitchen.node.mesh.mesh
          .peers()
          .some((p) => p.id === officeId && p.status === 'online' && p.card.preferredWhenOn === true),
      30_000,
      "kitchen to see office's wake flags",
    );
    await office.teardown();
    office = undefined;
    await waitFor(
      () => kitchen.node.mesh.peers().every((p) => p.id !== officeId || p.status !== 'online'),
      30_000,
      'kitchen to see office gone',
    );
    chrome = await launchBrowser();
    browser = chrome.browser;
    page = await (await browser.newContext({ locale: 'en-US' })).newPage();
    page.setDefaultTimeout(20_000);
  }, 120_000);

  afterAll(async () => {
    await chrome?.close();
    await office?.teardown();
    await kitchen?.teardown();
  });

  it('should show the sleeping machine with its models and a Wake button', async () => {
    await page.goto(`${kitchen.node.url}/`);
    await claimNode(page, 'kitchen');
    await page.goto(`${kitchen.node.url}/agents`);
    const card = page.locator('[data-testid=sleeping-card][data-name=office]');
    await card.waitFor();
    expect(await card.locator('.status').textContent()).toContain('Asleep');
    expect(await card.textContent()).toContain('mistral:7b');
    expect(await card.textContent()).toContain('Preferred when on');
    const button = card.locator('[data-testid=wake-button]');
    expect(await button.textContent()).toBe('Wake');
    // Wakeable only where this machine has a home-LAN interface to name in the card.
    const wakeable = (
      await (await page.request.get(`${kitchen.node.url}/allerac/v1/peers/sleeping`)).json()
    )[0].wakeable as boolean;
    expect(await button.isDisabled()).toBe(!wakeable);
  });

  it("should change this machine's wake flags and the patience in Settings", async () => {
    await page.goto(`${kitchen.node.url}/settings`);
    const section = page.locator('section[aria-labelledby=wake-title]');
    await section.locator('[data-testid=wake-preferredWhenOn]').check();
    await section.locator('[data-testid=wake-patience]').fill('5');
    await section.locator('button[type=submit]').click();
    await section.locator('[role=status]').waitFor();
    const settings = await (await page.request.get(`${kitchen.node.url}/allerac/v1/settings`)).json();
    expect(settings).toMatchObject({ 'wake.preferredWhenOn': true, 'routing.patienceMs': 5_000 });
    // The card follows within the mesh's update throttle (one a second): wait for it to be sent.
    const mesh = kitchen.node.mesh.mesh;
    const published = async () => (await mesh.localCard()).preferredWhenOn === true;
    await new Promise<void>((resolve) => {
      const check = () =>
        void published().then((yes) => {
          if (!yes) return;
          mesh.removeEventListener('self:update', check);
          resolve();
        });
      mesh.addEventListener('self:update', check);
      check();
    });
    expect(await published()).toBe(true);
  });
});
