/**
 * Memory that learns, in Chromium: a chat with an assistant that may write memories shows
 * "2 memories proposed — review" under its answer; the Memories page's Proposed list keeps one
 * (into a chosen space) and discards the other.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, ensureWebBuilt, launchBrowser, skipBrowser } from './helpers/browser.js';
import { startTestNode, type TestNode } from './helpers/node.js';

const MODEL = 'llama3.2:3b';
const ALLERGY = 'My daughter is allergic to nuts';
const KEY = 'We keep the spare key under the blue pot';

const suiteName = skipBrowser
  ? `memory proposals in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'memory proposals in Chromium';

describe.skipIf(skipBrowser)(suiteName, () => {
  let alice: TestNode;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    alice = await startTestNode({
      name: 'alice',
      sim: { profile: 'fast', models: [MODEL, 'all-minilm:latest'], preload: [MODEL] },
    });
    await alice.node.memory.createSpace('household', { peers: 'all' });
    chrome = await launchBrowser();
    context = await chrome.browser.newContext({ locale: 'en-US' });
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    await page.goto(`${alice.node.url}/`);
    await page.evaluate(async (model) => {
      const json = { 'Content-Type': 'application/json' };
      const setup = await fetch('/auth/setup', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ username: 'ana', password: 'correct horse battery' }),
      });
      if (!setup.ok) throw new Error(`setup: ${setup.status}`);
      const csrf = decodeURIComponent(/allerac_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '');
      const write = { ...json, 'X-CSRF-Token': csrf };
      const done = await fetch('/allerac/v1/setup/complete', {
        method: 'POST',
        headers: write,
        body: JSON.stringify({ agentName: 'alice', specializations: [] }),
      });
      if (!done.ok) throw new Error(`setup complete: ${done.status}`);
      const agent = await fetch('/allerac/v1/agents', {
        method: 'POST',
        headers: write,
        body: JSON.stringify({
          slug: 'diary',
          name: 'Diary',
          models: { preferred: [model], fallback: { capabilities: ['completion'], minParamsB: 0 } },
          memory: { spaces: ['private'], write: true },
        }),
      });
      if (!agent.ok) throw new Error(`agent: ${agent.status}`);
    }, MODEL);
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await chrome?.close();
    await alice?.teardown();
  });

  it('should note the proposals under the answer, then keep one and discard one', async () => {
    await page.goto(`${alice.node.url}/chat`);
    const picker = page.getByTestId('agent-picker');
    await picker.locator('option[value="diary"]').waitFor({ state: 'attached' });
    await picker.selectOption('diary');
    await page.getByLabel('Message').fill(`${ALLERGY}. ${KEY}.`);
    await page.getByRole('button', { name: 'Send' }).click();
    const note = page.getByTestId('proposal-note');
    await note.waitFor();
    expect(await note.textContent()).toBe('2 memories proposed — review');

    await note.getByRole('link', { name: 'review' }).click();
    const list = page.getByTestId('proposals');
    await list.getByRole('heading', { name: 'Proposed' }).waitFor();
    const allergy = list.getByTestId('proposal').filter({ hasText: ALLERGY });
    const key = list.getByTestId('proposal').filter({ hasText: KEY });
    await allergy.getByLabel('Keep in').selectOption('household');
    await allergy.getByRole('button', { name: 'Keep' }).click();
    await page.getByTestId('memory').filter({ hasText: ALLERGY }).getByText('household').waitFor();
    await key.getByRole('button', { name: 'Discard' }).click();
    await list.waitFor({ state: 'detached' });

    const kept = await alice.node.memory.list({ space: 'household' }, 10);
    expect(kept.memories.map((m) => m.text)).toEqual([ALLERGY]);
    const everything = await alice.node.memory.list({}, 50);
    expect(everything.memories.map((m) => m.text)).not.toContain(KEY);
    const left = await page.evaluate(async () => (await fetch('/allerac/v1/memories/proposals')).json());
    expect(left).toEqual({ proposals: [] });
  }, 60_000);
});
