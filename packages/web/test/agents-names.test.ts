/**
 * Issue #11, "two peers may share a name": the Agents page shows both, told apart by a suffix, each
 * with a hint to rename one.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, claimNode, ensureWebBuilt, launchBrowser, skipBrowser } from './helpers/browser.js';
import { type NodeProcess, startNodeProcess, startTestNode, type TestNode, waitFor } from './helpers/node.js';

const suiteName = skipBrowser
  ? `agents page in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'agents page in Chromium';

describe.skipIf(skipBrowser)(suiteName, () => {
  let kitchen: TestNode;
  const offices: NodeProcess[] = [];
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    kitchen = await startTestNode({ name: 'kitchen', sim: { profile: 'fast', models: ['llama3.2:3b'] } });
    for (let i = 0; i < 2; i++) {
      offices.push(
        await startNodeProcess({
          name: 'office',
          ollamaUrl: kitchen.sim.url,
          meshKeyFile: join(kitchen.dataDir, 'mesh.key'),
          bootstrap: kitchen.node.mesh.mesh.addresses(),
        }),
      );
    }
    await waitFor(
      () => kitchen.node.mesh.peers().filter((p) => p.nameClash && p.status === 'online').length === 2,
      30_000,
      'both offices online',
    );
    chrome = await launchBrowser();
    browser = chrome.browser;
    page = await (await browser.newContext({ locale: 'en-US' })).newPage();
    page.setDefaultTimeout(20_000);
  }, 120_000);

  afterAll(async () => {
    await chrome?.close();
    await Promise.allSettled(offices.map((o) => o.stop()));
    await kitchen?.teardown();
  });

  it('should show two agents called alike under distinct names, each asking for a rename', async () => {
    await page.goto(`${kitchen.node.url}/`);
    // The first admin may be created from loopback; the setup is then finished through the API.
    await claimNode(page, 'kitchen');
    await page.goto(`${kitchen.node.url}/agents`);
    const cards = page.locator('[data-testid=agent-card][data-name^="office (…"]');
    await cards.nth(1).waitFor();
    const names = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-name')));
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
    for (let i = 0; i < 2; i++) {
      expect(await cards.nth(i).locator('[data-testid=name-clash]').textContent()).toContain(
        'Rename one of them',
      );
    }
    const own = page.locator('[data-testid=agent-card][data-name=kitchen]');
    expect(await own.locator('[data-testid=name-clash]').count()).toBe(0);
  });
});
