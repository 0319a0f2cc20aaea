/**
 * Issue #14, "pairing like a consumer device": alice invites a machine from her Agents page (a
 * short code with Copy, a QR code and a countdown); bob, a home of his own, joins with that code
 * from his Agents page, and then lists alice. mDNS is off, so only the invitation brings them
 * together.
 */
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumMissing,
  claimNode,
  ensureWebBuilt,
  launchBrowser,
  SCREENSHOTS,
  skipBrowser,
} from './helpers/browser.js';
import { startTestNode, type TestNode, waitFor } from './helpers/node.js';

const suiteName = skipBrowser
  ? `pairing in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'pairing in Chromium';

/** Creates the first admin from loopback and finishes the setup through the API. */
async function setUp(page: Page, url: string, agentName: string): Promise<void> {
  await page.goto(`${url}/`);
  await claimNode(page, agentName);
}

describe.skipIf(skipBrowser)(suiteName, () => {
  let alice: TestNode;
  let bob: TestNode;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let aliceContext: BrowserContext;
  let alicePage: Page;
  let bobPage: Page;

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    alice = await startTestNode({ name: 'alice', sim: { profile: 'fast', models: ['llama3.2:3b'] } });
    bob = await startTestNode({ name: 'bob', sim: { profile: 'fast', models: ['gemma3:4b'] } });
    chrome = await launchBrowser();
    aliceContext = await chrome.browser.newContext({ locale: 'en-US' });
    aliceContext.setDefaultTimeout(20_000);
    await aliceContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: alice.node.url });
    alicePage = await aliceContext.newPage();
    const bobContext = await chrome.browser.newContext({ locale: 'en-US' });
    bobContext.setDefaultTimeout(20_000);
    bobPage = await bobContext.newPage();
    await setUp(alicePage, alice.node.url, 'alice');
    await setUp(bobPage, bob.node.url, 'bob');
  }, 120_000);

  afterAll(async () => {
    await chrome?.close();
    await bob?.teardown();
    await alice?.teardown();
  });

  it('should invite on alice, join from bob’s Agents page, and show alice on bob', async () => {
    await alicePage.goto(`${alice.node.url}/agents`);
    await alicePage.getByRole('button', { name: 'Invite a machine' }).click();
    const code = ((await alicePage.getByTestId('invite-code').textContent()) ?? '').trim();
    expect(code).toMatch(/^ALRC(-[0-9A-HJKMNP-TV-Z]{5}){6}$/);
    // The QR code is an SVG, and the countdown starts from the node's ten minutes.
    expect(await alicePage.getByTestId('invite-qr').locator('svg').count()).toBe(1);
    expect(await alicePage.getByTestId('invite-expiry').textContent()).toMatch(
      /^Valid for (10:00|9:[0-5]\d)$/,
    );
    await alicePage.getByRole('button', { name: 'Copy' }).click();
    await alicePage.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await alicePage.evaluate(() => navigator.clipboard.readText())).toBe(code);
    await alicePage.screenshot({ path: join(SCREENSHOTS, 'pairing-invite.png') });

    await bobPage.goto(`${bob.node.url}/agents`);
    await bobPage.getByLabel('Join code').fill(code);
    await bobPage.getByRole('button', { name: 'Join', exact: true }).click();
    await bobPage.getByText('Joined the home of alice.').waitFor();
    await bobPage.locator('[data-testid=agent-card][data-name="alice"]').waitFor();
    await waitFor(
      () => alice.node.mesh.peers().some((p) => p.name === 'bob' && p.status === 'online'),
      30_000,
      'alice to see bob',
    );

    // The code was for one machine: a second try is refused with what to do.
    await bobPage.getByLabel('Join code').fill(code);
    await bobPage.getByRole('button', { name: 'Join', exact: true }).click();
    expect(await bobPage.getByRole('alert').textContent()).toMatch(/fresh code/);
  }, 120_000);

  it('should copy the code without the clipboard API', async () => {
    const plain = await aliceContext.newPage();
    try {
      // As over plain http to a LAN address: no navigator.clipboard, the copy command instead.
      await plain.addInitScript(() => Object.defineProperty(navigator, 'clipboard', { value: undefined }));
      await plain.goto(`${alice.node.url}/agents`);
      await plain.getByRole('button', { name: 'Invite a machine' }).click();
      const code = ((await plain.getByTestId('invite-code').textContent()) ?? '').trim();
      await plain.getByRole('button', { name: 'Copy' }).click();
      await plain.getByRole('button', { name: 'Copied' }).waitFor();
      expect(await alicePage.evaluate(() => navigator.clipboard.readText())).toBe(code);
    } finally {
      await plain.close();
    }
  });
});
