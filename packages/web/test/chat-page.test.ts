/**
 * Issue #14, "Chat": answers rendered as markdown, errors inline with Retry, answers that survive a
 * reload, a stopped answer marked so, and conversations renamed, deleted, searched and filtered.
 */
import { join } from 'node:path';
import { type OllamaSim, PROFILES, startOllamaSim } from '@allerac/ollama-sim';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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

const MODEL = 'llama3.2:3b';
const MARKDOWN_PROMPT = 'Show me a sorting example with a table.';
const MARKDOWN_REPLY = [
  'Here is **a sorted list** in JavaScript:',
  '',
  '```javascript',
  'const sorted = [3, 1, 2].sort((a, b) => a - b);',
  'console.log(sorted);',
  '```',
  '',
  '| Input | Output |',
  '| ----- | ------ |',
  '| 3 1 2 | 1 2 3 |',
  '',
  '- first item',
  '- second <span onmouseover="window.__pwned = 1">item</span>',
  '',
  'See [the docs](https://developer.mozilla.org/) for more.<script>window.__pwned = 2</script>',
].join('\n');
const LONG_PROMPT = 'Tell me a long story about the garden.';
const LONG_REPLY = Array.from({ length: 50 }, (_, i) => `Sentence ${i + 1} of the garden story.`).join(' ');
const STOP_PROMPT = 'Count slowly to four hundred.';
const STOP_REPLY = Array.from({ length: 400 }, (_, i) => String(i + 1)).join(' ');
const RETRY_PROMPT = 'Is the backend there?';
const RETRY_REPLY = 'Yes, **it is back**.';
const REPLIES = {
  [MARKDOWN_PROMPT]: MARKDOWN_REPLY,
  [LONG_PROMPT]: LONG_REPLY,
  [STOP_PROMPT]: STOP_REPLY,
  [RETRY_PROMPT]: RETRY_REPLY,
};
/** Slow enough to reload or stop mid-answer (about 60 tokens a second), and a model load to see. */
const PROFILE = { ...PROFILES.fast!, name: 'chat-test', tokensPerSecond: 60, ttftMs: 200, loadMsPerGB: 600 };
const SIM = { profile: PROFILE, models: [MODEL], replies: REPLIES };

const assistant = (page: Page) => page.locator('.bubble-assistant');

async function ask(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

/** Waits for the last answer to reach `status` and returns its element's text. */
async function lastAnswer(page: Page, status: string, timeout = 30_000): Promise<string> {
  const last = assistant(page).last();
  await page.waitForFunction(
    (s) =>
      Array.from(document.querySelectorAll('.bubble-assistant')).at(-1)?.getAttribute('data-status') === s,
    status,
    { timeout },
  );
  return (await last.locator('.bubble-text').textContent()) ?? '';
}

const suiteName = skipBrowser
  ? `chat page in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'chat page in Chromium';

describe.skipIf(skipBrowser)(suiteName, () => {
  let t: TestNode;
  let revived: OllamaSim | undefined;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    t = await startTestNode({ name: 'kitchen', sim: SIM });
    chrome = await launchBrowser();
    browser = chrome.browser;
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.node.url });
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    await page.goto(`${t.node.url}/`);
    // The first admin may be created from loopback; the setup is then finished through the API.
    await claimNode(page, 'kitchen');
    await page.goto(`${t.node.url}/chat`);
    await page.getByRole('button', { name: 'Send' }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await chrome?.close();
    await t?.teardown();
    await revived?.close();
  });

  it('should say the model is loading, then render code, a table, lists, bold and links as markdown', async () => {
    await ask(page, MARKDOWN_PROMPT);
    // The model is cold: the node names itself as loading it before the first token.
    await page.getByTestId('answer-pending').filter({ hasText: 'Loading model on kitchen…' }).waitFor();
    await lastAnswer(page, 'complete');
    const bubble = assistant(page).last().locator('.markdown');
    expect(await bubble.locator('strong').first().textContent()).toBe('a sorted list');
    const code = bubble.locator('pre code.hljs');
    expect(await code.textContent()).toContain('const sorted = [3, 1, 2].sort((a, b) => a - b);');
    expect(await code.locator('.hljs-keyword').first().textContent()).toBe('const');
    expect(await bubble.locator('table th').allTextContents()).toEqual(['Input', 'Output']);
    expect(await bubble.locator('table td').allTextContents()).toEqual(['3 1 2', '1 2 3']);
    expect(await bubble.locator('ul > li').allTextContents()).toEqual(['first item', 'second item']);
    const link = bubble.getByRole('link', { name: 'the docs' });
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
    // The answer's HTML is sanitised: no handler, no script ran.
    expect(await bubble.locator('script, [onmouseover]').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await assistant(page).last().getByTestId('answered-by').textContent()).toContain('kitchen');

    await page.screenshot({ path: join(SCREENSHOTS, 'chat-markdown.png') });
    await bubble.getByRole('button', { name: 'Copy' }).click();
    await bubble.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      'const sorted = [3, 1, 2].sort((a, b) => a - b);\nconsole.log(sorted);\n',
    );
    // The conversation's id is in the address.
    expect(new URL(page.url()).searchParams.get('c')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('should keep an error inline with Retry while the backend is down, and answer on Retry once it is back', async () => {
    await page.getByRole('button', { name: 'New chat' }).click();
    const port = t.sim.port;
    await t.sim.close();
    await ask(page, RETRY_PROMPT);
    const error = page.getByTestId('answer-error');
    await error.waitFor();
    expect(await assistant(page).count()).toBe(1);
    expect(await error.textContent()).toMatch(/The answer failed: .+/);
    // An error stays: it is no toast that goes away and leaves an empty bubble.
    expect(await assistant(page).last().getAttribute('data-status')).toBe('failed');

    revived = await startOllamaSim({ ...SIM, port });
    await waitFor(
      async () => (await fetch(`${t.node.url}/health`).then((r) => r.json())).backend.state === 'up',
      30_000,
      'the backend to be up again',
    );
    await error.getByRole('button', { name: 'Retry' }).click();
    const text = await lastAnswer(page, 'complete');
    expect(text).toBe('Yes, it is back.');
    expect(await page.getByTestId('answer-error').count()).toBe(0);
    expect(await assistant(page).count()).toBe(1);
  });

  it('should pick an answer up again after a reload mid-answer and show it finished', async () => {
    await page.getByRole('button', { name: 'New chat' }).click();
    await ask(page, LONG_PROMPT);
    // Wait for some text, then reload while the node is still generating.
    await page.waitForFunction(
      () => (document.querySelector('.bubble-assistant .bubble-text')?.textContent ?? '').length > 10,
    );
    expect(await assistant(page).last().getAttribute('data-status')).toBe('generating');
    const id = new URL(page.url()).searchParams.get('c');
    expect(id).not.toBeNull();
    await page.reload();
    expect(await lastAnswer(page, 'complete')).toBe(LONG_REPLY);
    expect(new URL(page.url()).searchParams.get('c')).toBe(id);
    const stored = await page.evaluate(
      (c) => fetch(`/allerac/v1/conversations/${c}/messages`).then((r) => r.json()),
      id,
    );
    const answer = stored.messages.at(-1);
    expect([answer.role, answer.status, answer.content]).toEqual(['assistant', 'complete', LONG_REPLY]);
  });

  it('should mark a stopped answer as stopped, also after a reload', async () => {
    await page.getByRole('button', { name: 'New chat' }).click();
    await ask(page, STOP_PROMPT);
    await page.waitForFunction(
      () => (document.querySelector('.bubble-assistant .bubble-text')?.textContent ?? '').length > 4,
    );
    await page.getByRole('button', { name: 'Stop' }).click();
    await lastAnswer(page, 'stopped');
    await page.getByTestId('answer-stopped').waitFor();
    await page.reload();
    await lastAnswer(page, 'stopped');
    await page.getByTestId('answer-stopped').waitFor();
    expect((await assistant(page).last().textContent())?.length ?? 0).toBeLessThan(STOP_REPLY.length);
  });

  it('should rename, search, filter and delete conversations', async () => {
    const history = page.getByRole('complementary', { name: 'Conversations' });
    const items = history.getByTestId('conversation');
    await waitFor(async () => (await items.count()) >= 4, 20_000, 'four conversations listed');

    // Rename the markdown conversation.
    await history.getByRole('button', { name: /^Rename “Show me a sorting/ }).click();
    await history.getByLabel('New title').fill('Sorting in JS');
    await history.getByRole('button', { name: 'Save' }).click();
    await history.getByRole('button', { name: /^Sorting in JS/ }).waitFor();

    // Search finds it by title and by the answer's text.
    await history.getByLabel('Search conversations').fill('sorting in');
    await waitFor(async () => (await items.count()) === 1, 10_000, 'one match by title');
    await history.getByLabel('Search conversations').fill('garden story');
    await waitFor(async () => (await items.count()) === 1, 10_000, 'one match by text');
    await history.getByRole('button', { name: /^Tell me a long story/ }).waitFor();
    await history.getByLabel('Search conversations').fill('');
    await waitFor(async () => (await items.count()) >= 4, 10_000, 'all listed again');

    // A chat from another app (no session) stays out of the user's list, behind the filter.
    const other = await fetch(`${t.node.url}/api/chat`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        stream: false,
        messages: [{ role: 'user', content: 'A question from another app' }],
      }),
    });
    expect(other.status).toBe(200);
    await other.json();
    await page.reload();
    await waitFor(async () => (await items.count()) >= 4, 10_000, 'the list after a reload');
    expect(await history.getByRole('button', { name: /^A question from another app/ }).count()).toBe(0);
    await history.getByLabel('From other apps').check();
    await history.getByRole('button', { name: /^A question from another app/ }).waitFor();
    await history.getByLabel('From other apps').uncheck();

    // Delete, with a confirmation; the conversation is gone from the list and the store.
    const target = history.getByTestId('conversation').filter({ hasText: 'Sorting in JS' });
    const id = await target.getAttribute('data-id');
    await history.getByRole('button', { name: 'Delete “Sorting in JS”' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await waitFor(async () => (await target.count()) === 0, 10_000, 'the conversation gone');
    const status = await page.evaluate(
      (c) => fetch(`/allerac/v1/conversations/${c}/messages`).then((r) => r.status),
      id,
    );
    expect(status).toBe(404);
  });
});
