/**
 * Memories page, "Documents", in Chromium: a file picked in the import control lands in the
 * chosen space as a searchable document, shows in the list, and Delete removes all its parts.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, claimNode, ensureWebBuilt, launchBrowser, skipBrowser } from './helpers/browser.js';
import { startTestNode, type TestNode, waitFor } from './helpers/node.js';

const suiteName = skipBrowser
  ? `document import in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'document import in Chromium';

describe.skipIf(skipBrowser)(suiteName, () => {
  let alice: TestNode;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    alice = await startTestNode({ name: 'alice', sim: { profile: 'fast', models: ['all-minilm:latest'] } });
    await alice.node.memory.createSpace('household', { peers: 'all' });
    chrome = await launchBrowser();
    context = await chrome.browser.newContext({ locale: 'en-US' });
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
    await page.goto(`${alice.node.url}/`);
    await claimNode(page, 'alice');
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await chrome?.close();
    await alice?.teardown();
  });

  it('should import a picked file into a space, list it and delete it', async () => {
    await page.goto(`${alice.node.url}/memories`);
    await page.getByRole('heading', { name: 'Documents' }).waitFor();
    await page.getByTestId('document-space').selectOption('household');
    await page.getByTestId('document-file').setInputFiles({
      name: 'garden.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from('# Garden\n\nThe apple tree is pruned in February, never in spring.\n'),
    });
    const list = page.getByTestId('document-list');
    await list.getByText('garden.md').waitFor();
    await expect(list.textContent()).resolves.toContain('household');
    const listed = await alice.node.documents.list({ space: 'household' });
    expect(listed.documents.map((d) => d.name)).toEqual(['garden.md']);

    await list.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No documents yet.').waitFor();
    await waitFor(
      async () => (await alice.node.documents.list()).documents.length === 0,
      10_000,
      'the document to be deleted',
    );
  }, 60_000);

  it('should show the node’s refusal of a file it cannot read', async () => {
    await page.getByTestId('document-file').setInputFiles({
      name: 'scan.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF-1.4 not really'),
    });
    await page.getByText(/the PDF cannot be read/).waitFor();
    expect((await alice.node.documents.list()).documents).toEqual([]);
  }, 30_000);
});
