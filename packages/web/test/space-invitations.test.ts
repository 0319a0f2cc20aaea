/**
 * Memories page, "Invitations", in Chromium: a space that alice shares shows on bob's page with
 * Join and Decline; Join brings alice's memories in, Decline hides the invitation.
 */
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, claimNode, ensureWebBuilt, launchBrowser, skipBrowser } from './helpers/browser.js';
import { startTestNode, type TestNode, waitFor } from './helpers/node.js';

const suiteName = skipBrowser
  ? `space invitations in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'space invitations in Chromium';

describe.skipIf(skipBrowser)(suiteName, () => {
  let alice: TestNode;
  let bob: TestNode;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;

  const offered = (name: string) => bob.node.memory.listInvitations().some((i) => i.name === name);

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    alice = await startTestNode({ name: 'alice', sim: { profile: 'fast', models: ['all-minilm:latest'] } });
    bob = await startTestNode({
      name: 'bob',
      sim: { profile: 'fast', models: ['all-minilm:latest'] },
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    });
    await waitFor(
      () => bob.node.mesh.peers().some((p) => p.name === 'alice' && p.status === 'online'),
      30_000,
      'bob to see alice',
    );
    chrome = await launchBrowser();
    context = await chrome.browser.newContext({ locale: 'en-US' });
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    await page.goto(`${bob.node.url}/`);
    await claimNode(page, 'bob');
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await chrome?.close();
    await bob?.teardown();
    await alice?.teardown();
  });

  it('should join a space alice offers and show her memories', async () => {
    await alice.node.memory.createSpace('family', { peers: 'all' });
    await alice.node.memory.add({ text: 'grandma visits on Sunday', tags: [], space: 'family' });
    // A hello carries the counts: the next space alice creates sends one.
    await alice.node.memory.createSpace('scratch', { peers: 'all' });
    await waitFor(
      () => bob.node.memory.listInvitations().some((i) => i.name === 'family' && i.memories === 1),
      20_000,
      'the family invitation',
    );
    await page.goto(`${bob.node.url}/memories`);
    await page.getByRole('heading', { name: 'Invitations' }).waitFor();
    const invitation = page.getByTestId('invitation').filter({ hasText: 'family' });
    expect(await invitation.textContent()).toContain('Offered by alice · 1 memories');
    expect(await page.getByText('grandma visits on Sunday').count()).toBe(0);
    await invitation.getByRole('button', { name: 'Join' }).click();
    await page.getByText('grandma visits on Sunday').waitFor();
    expect(await page.getByTestId('invitation').filter({ hasText: 'family' }).count()).toBe(0);
    expect(bob.node.memory.listSpaces().map((s) => s.name)).toContain('family');
  }, 60_000);

  it('should hide a declined invitation', async () => {
    await page.reload();
    const scratch = page.getByTestId('invitation').filter({ hasText: 'scratch' });
    await scratch.waitFor();
    await scratch.getByRole('button', { name: 'Decline' }).click();
    await scratch.waitFor({ state: 'detached' });
    expect(offered('scratch')).toBe(false);
    await page.reload();
    await page.getByRole('heading', { name: 'Spaces' }).waitFor();
    expect(await page.getByTestId('invitation').count()).toBe(0);
    expect(bob.node.memory.listSpaces().map((s) => s.name)).not.toContain('scratch');
  }, 60_000);
});
