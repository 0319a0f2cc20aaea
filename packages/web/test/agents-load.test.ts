/**
 * Issue #12, "four live bugs came from one cause": the Agents page read fields the cards do not
 * have. A peer whose slots are all busy and whose queue holds tasks must show its real queue
 * depth (`queueDepth`, not `queued`), its CPU (`cpuModel`, not `cpu`) and a load meter scaled to
 * its own slots (not to 8).
 */
import { join } from 'node:path';
import { DEFAULT_SLOTS, type PeerSummary } from '@allerac/node';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, claimNode, ensureWebBuilt, launchBrowser, skipBrowser } from './helpers/browser.js';
import { startTestNode, type TestNode, waitFor } from './helpers/node.js';

/** A model only the office has, so its chats stay there and queue for its slots. */
const OFFICE_MODEL = 'qwen2.5-coder:7b';
/** Chats sent to the office: every slot taken, and this many more waiting. */
const QUEUED = 2;

const suiteName = skipBrowser
  ? `agents page load and hardware in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'agents page load and hardware in Chromium';

describe.skipIf(skipBrowser)(suiteName, () => {
  let kitchen: TestNode;
  let office: TestNode;
  const held = new AbortController();
  const chats: Array<Promise<unknown>> = [];
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let browser: Browser;
  let page: Page;

  const officeSeenByKitchen = (): PeerSummary | undefined =>
    kitchen.node.mesh.peers().find((peer) => peer.name === 'office' && peer.status === 'online');

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    kitchen = await startTestNode({ name: 'kitchen', sim: { profile: 'fast', models: ['llama3.2:3b'] } });
    // Its Ollama never sends a first token: each chat holds a slot until it is aborted.
    office = await startTestNode({
      name: 'office',
      sim: { profile: 'fast', models: [OFFICE_MODEL], faults: { stallAfterTokens: 0 } },
      meshKeyFile: join(kitchen.dataDir, 'mesh.key'),
      bootstrap: kitchen.node.mesh.mesh.addresses(),
    });
    await waitFor(() => officeSeenByKitchen() !== undefined, 30_000, 'the office online at the kitchen');
    for (let i = 0; i < DEFAULT_SLOTS + QUEUED; i++) {
      const chat = fetch(`${office.node.url}/api/chat`, {
        method: 'POST',
        body: JSON.stringify({ model: OFFICE_MODEL, messages: [{ role: 'user', content: `task ${i}` }] }),
        signal: held.signal,
      }).catch(() => undefined);
      chats.push(chat);
    }
    await waitFor(
      () => officeSeenByKitchen()?.load.queueDepth === QUEUED,
      30_000,
      "the office's card to show its queue",
    );
    chrome = await launchBrowser();
    browser = chrome.browser;
    page = await (await browser.newContext({ locale: 'en-US' })).newPage();
    page.setDefaultTimeout(20_000);
  }, 120_000);

  afterAll(async () => {
    held.abort();
    await Promise.allSettled(chats);
    await chrome?.close();
    await office?.teardown();
    await kitchen?.teardown();
  });

  const card = (name: string): Locator => page.locator(`[data-testid=agent-card][data-name=${name}]`);

  it('should show a peer with its queue depth, its CPU model and a load meter scaled to its slots', async () => {
    await page.goto(`${kitchen.node.url}/`);
    // The first admin may be created from loopback; the setup is then finished through the API.
    await claimNode(page, 'kitchen');
    await page.goto(`${kitchen.node.url}/agents`);
    const peer = officeSeenByKitchen()!;
    expect(peer.load).toMatchObject({ activeTasks: DEFAULT_SLOTS, queueDepth: QUEUED, slots: DEFAULT_SLOTS });
    expect(peer.hardware.cpuModel).not.toBe('');

    const officeCard = card('office');
    await officeCard.waitFor();
    // Each is its own bug: soft, so that every one is reported.
    const meter = officeCard.getByRole('meter');
    expect.soft(await meter.getAttribute('max')).toBe(String(DEFAULT_SLOTS));
    expect.soft(await meter.getAttribute('value')).toBe(String(DEFAULT_SLOTS));
    expect.soft(await meter.locator('xpath=..').textContent()).toContain(`${QUEUED} queued`);
    expect.soft(await officeCard.textContent()).toContain(peer.hardware.cpuModel);
  });

  it('should show this node with its own CPU model and slots', async () => {
    const self = card('kitchen');
    await self.waitFor();
    const cpu = (await kitchen.node.mesh.mesh.localCard()).hardware.cpuModel;
    expect.soft(await self.textContent()).toContain(cpu);
    expect.soft(await self.getByRole('meter').getAttribute('max')).toBe(String(DEFAULT_SLOTS));
  });
});
