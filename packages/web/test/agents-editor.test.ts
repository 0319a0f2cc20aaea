/**
 * Issue #18 in the UI: the Chat page's assistant picker sends `agent/<slug>` (and the answer's
 * request carries the assistant's prompt), and the Assistants page lists, creates, edits and
 * deletes assistants, restoring a built-in's original.
 */
import { join } from 'node:path';
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
// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON; the assertions check them
type Json = Record<string, any>;

const suiteName = skipBrowser
  ? `assistants in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'assistants in Chromium';

describe.skipIf(skipBrowser)(suiteName, () => {
  let t: TestNode;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  const chatsSent = () =>
    (t.sim?.requests() ?? [])
      .filter((r) => r.path === '/api/chat')
      .map(
        (r) => JSON.parse(r.body) as { model: string; messages: Array<{ role: string; content: string }> },
      );

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    t = await startTestNode({
      name: 'study',
      sim: { profile: 'fast', models: [MODEL], recordRequests: true },
    });
    chrome = await launchBrowser();
    browser = chrome.browser;
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    await page.goto(`${t.node.url}/`);
    await claimNode(page, 'study');
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await chrome?.close();
    await t?.teardown();
  });

  it('should list, create, edit and delete assistants, and restore a built-in', async () => {
    await page.goto(`${t.node.url}/assistants`);
    await page.getByRole('heading', { name: 'Assistants' }).waitFor();
    for (const slug of ['code-assistant', 'research', 'creative-writing', 'home-automation']) {
      await page.getByTestId(`agent-${slug}`).waitFor();
    }

    await page.getByRole('button', { name: '+ New assistant' }).click();
    const form = page.getByTestId('agent-form');
    await form.getByLabel('Slug').fill('poet');
    await form.getByLabel('Name', { exact: true }).fill('Poet');
    await form.getByLabel('System prompt').fill('You answer only in rhyming couplets.');
    await form.getByLabel('Preferred models').fill(MODEL);
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('agent-poet').waitFor();
    const created = (await page.evaluate(async () =>
      (await fetch('/allerac/v1/agents/poet')).json(),
    )) as Json;
    expect(created).toMatchObject({ name: 'Poet', systemPrompt: 'You answer only in rhyming couplets.' });
    expect(created.models.preferred).toEqual([MODEL]);

    await page.getByTestId('agent-poet').getByRole('button', { name: 'Edit' }).click();
    await page.getByTestId('agent-form').getByLabel('Description').fill('Verses on demand');
    await page.getByTestId('agent-form').getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('agent-poet').getByText('Verses on demand').waitFor();

    // Its tools: which ones, the Home Assistant domains, whether it may act, and memory proposals.
    await page.getByTestId('agent-poet').getByRole('button', { name: 'Edit' }).click();
    const tools = page.getByTestId('agent-tools');
    await tools.getByLabel('ha.call_service').check();
    await tools.getByLabel('documents.search').check();
    await tools.getByLabel('Home Assistant domains', { exact: false }).fill('light, cover');
    await tools.getByLabel('May take actions', { exact: false }).check();
    await page.getByTestId('agent-form').getByLabel('May propose memories', { exact: false }).check();
    await page.getByTestId('agent-form').getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('agent-form').waitFor({ state: 'detached' });
    const tooled = (await page.evaluate(async () => (await fetch('/allerac/v1/agents/poet')).json())) as Json;
    expect(tooled.tools).toMatchObject({
      allowed: ['ha.call_service', 'documents.search'],
      homeAssistantDomains: ['light', 'cover'],
      allowActions: true,
    });
    expect(tooled.memory.write).toBe(true);
    expect(tooled.description).toBe('Verses on demand');

    // A built-in edited, then restored to its original.
    await page.getByTestId('agent-research').getByRole('button', { name: 'Edit' }).click();
    await page.getByTestId('agent-form').getByLabel('Name', { exact: true }).fill('Deep research');
    await page.getByTestId('agent-form').getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('agent-research').getByText('Deep research').waitFor();
    await page.getByTestId('agent-research').getByRole('button', { name: 'Restore original' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Restore original' }).click();
    await page.getByTestId('agent-research').getByText('Research', { exact: false }).waitFor();
    await waitFor(
      async () =>
        (
          (await page.evaluate(async () => (await fetch('/allerac/v1/agents/research')).json())) as {
            name: string;
          }
        ).name === 'Research',
      10_000,
      'research restored',
    );
    // A fresh page for the README: no toasts left from the edits.
    await page.reload();
    await page.getByTestId('agent-poet').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'assistants.png') });
  });

  it('should chat with the assistant chosen in the picker', async () => {
    await page.goto(`${t.node.url}/chat`);
    await page.getByRole('button', { name: 'Send' }).waitFor();
    const picker = page.getByTestId('agent-picker');
    await picker.locator('option[value="poet"]').waitFor({ state: 'attached' });
    await picker.selectOption('poet');
    // The assistant brings its own model.
    expect(await page.locator('.chat-toolbar select').first().isDisabled()).toBe(true);
    await page.getByLabel('Message').fill('Tell me about the sea.');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('.bubble-assistant')).at(-1)?.getAttribute('data-status') ===
        'complete',
    );
    const sent = chatsSent().find((c) => c.messages.some((m) => m.content === 'Tell me about the sea.'));
    expect(sent?.model).toBe(MODEL);
    expect(sent?.messages[0]).toEqual({ role: 'system', content: 'You answer only in rhyming couplets.' });

    // Deleting it puts the picker back on the model alone.
    await page.goto(`${t.node.url}/assistants`);
    await page.getByTestId('agent-poet').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('agent-poet').waitFor({ state: 'detached' });
    await page.goto(`${t.node.url}/chat`);
    await page.getByTestId('agent-picker').locator('option[value="research"]').waitFor({ state: 'attached' });
    expect(await page.getByTestId('agent-picker').inputValue()).toBe('');
  });
});
