/**
 * Issue #16, "the model manager in Chromium": office (a GPU) and kitchen (a 16 GiB mini-PC) form a
 * home; the Models page shows every model against both machines, offers the placement advice and
 * the freeze warning, pulls a model with a progress bar in its cell, and asks before deleting the
 * home's last copy. On a phone the matrix becomes a card per model, with no sideways scrolling.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROFILES } from '@allerac/ollama-sim';
import type { HardwareInfo } from '@allerac/protocol';
import type { Browser, Page } from 'playwright-core';
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

const GIB = 1024 ** 3;

const suiteName = skipBrowser
  ? `the model manager in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'the model manager in Chromium';

/** Fixed hardware, so the advice reads the same on every host. */
function machine(hardware: Partial<HardwareInfo>) {
  const facts: HardwareInfo = {
    cpuModel: 'test',
    cores: 8,
    ramTotal: 16 * GIB,
    ramFree: 8 * GIB,
    gpus: [],
    diskFree: 500 * GIB,
    ...hardware,
  };
  return {
    hardware: async () => facts,
    usage: async () => ({
      at: Date.now(),
      cpu: 0,
      ramTotal: facts.ramTotal,
      ramUsed: facts.ramTotal - facts.ramFree,
      swapTotal: 0,
      swapUsed: 0,
      diskTotal: 1000 * GIB,
      diskUsed: 500 * GIB,
      temperature: null,
    }),
  };
}

/** Creates the node's first admin from the page (loopback needs no setup code) and completes setup. */
async function claim(page: Page, node: TestNode, agentName: string): Promise<void> {
  await page.goto(`${node.node.url}/`);
  await claimNode(page, agentName);
}

describe.skipIf(skipBrowser)(suiteName, () => {
  let office: TestNode;
  let kitchen: TestNode;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let browser: Browser;
  let page: Page;

  const row = (model: string) => page.locator(`[data-testid=model-row][data-model="${model}"]`);
  const cell = (model: string, node: string) =>
    row(model).locator(`[data-testid=model-cell][data-node=${node}]`);

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    office = await startTestNode({
      name: 'office',
      // Slow enough (1 GB/s) for the bar of a 3.3 GB pull to be seen moving.
      sim: {
        profile: { ...PROFILES.fast!, downloadBytesPerSecond: 1e9 },
        models: ['llama3.2:3b', 'all-minilm:latest'],
        preload: ['llama3.2:3b'],
      },
      system: machine({
        ramTotal: 32 * GIB,
        ramFree: 24 * GIB,
        gpus: [{ model: 'RTX', vramTotal: 24 * GIB, vramFree: 21 * GIB }],
      }),
    });
    kitchen = await startTestNode({
      name: 'kitchen',
      sim: { profile: 'fast', models: ['llama3.2:3b', 'gemma3:4b'] },
      system: machine({ ramTotal: 16 * GIB, ramFree: 3 * GIB }),
      meshKeyFile: join(office.dataDir, 'mesh.key'),
      bootstrap: office.node.mesh.mesh.addresses(),
    });
    await waitFor(
      () => office.node.mesh.peers().some((p) => p.name === 'kitchen' && p.models.includes('gemma3:4b')),
      30_000,
      'office to see the kitchen and its models',
    );
    chrome = await launchBrowser();
    browser = chrome.browser;
    page = await (
      await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' })
    ).newPage();
    page.setDefaultTimeout(20_000);
    await claim(page, office, 'office');
  }, 120_000);

  afterAll(async () => {
    await chrome?.close();
    await kitchen?.teardown();
    await office?.teardown();
  });

  it("should show the home's models against its machines, with the placement advice", async () => {
    await page.goto(`${office.node.url}/models`);
    await row('gemma3:4b').waitFor();
    expect(
      await page.locator('[data-testid=model-row]').evaluateAll((rows) => rows.map((r) => r.dataset.model)),
    ).toEqual(['gemma3:4b', 'llama3.2:3b', 'all-minilm:latest']);
    expect(
      await cell('llama3.2:3b', 'office').locator('[data-testid=cell-state]').getAttribute('data-state'),
    ).toBe('loaded');
    expect(
      await cell('llama3.2:3b', 'kitchen').locator('[data-testid=cell-state]').getAttribute('data-state'),
    ).toBe('present');
    expect(
      await cell('gemma3:4b', 'office').locator('[data-testid=cell-state]').getAttribute('data-state'),
    ).toBe('fits');
    expect(await cell('gemma3:4b', 'kitchen').locator('[data-testid=cell-state]').textContent()).toBe(
      'Present',
    );
    expect(await cell('all-minilm:latest', 'kitchen').locator('[data-testid=cell-copy]').textContent()).toBe(
      'Copy from a peer',
    );
    expect(await row('gemma3:4b').locator('[data-testid=model-advice]').textContent()).toBe(
      'gemma3:4b needs ~3.7 GB; office has 21 GB free and a GPU: put it there. kitchen (16 GB, no GPU) is better with llama3.2:3b.',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'models-matrix.png'), fullPage: true });
  });

  it('should advise on a model the home lacks and warn where it would freeze a machine', async () => {
    await page.locator('[data-testid=models-find-input]').fill('llama3.1:70b');
    await page.locator('[data-testid=models-find] button[type=submit]').click();
    const warnings = row('llama3.1:70b').locator('[data-testid=model-warning]');
    await warnings.first().waitFor();
    expect(await warnings.allTextContents()).toContain(
      'Pulling llama3.1:70b onto kitchen would freeze it: it needs ~47 GB and kitchen has 16 GB of RAM.',
    );
    // Pulling it there asks first, with the warning in view; cancelling pulls nothing.
    await cell('llama3.1:70b', 'kitchen').locator('[data-testid=cell-pull]').click();
    const dialog = page.locator('dialog[open]');
    expect(await dialog.locator('#confirm-text').textContent()).toContain('would freeze it');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.locator('[data-testid=cell-progress]').count()).toBe(0);
  });

  it('should pull a model onto a machine with a progress bar in its cell', async () => {
    await cell('gemma3:4b', 'office').locator('[data-testid=cell-pull]').click();
    const bar = cell('gemma3:4b', 'office').locator('[data-testid=cell-progress] [role=progressbar]');
    await bar.waitFor();
    await waitFor(
      async () => Number((await bar.getAttribute('aria-valuenow').catch(() => '0')) ?? 0) > 10,
      20_000,
      'the bar to move',
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'models-progress.png') });
    await cell('gemma3:4b', 'office')
      .locator('[data-testid=cell-state][data-state=present]')
      .waitFor({ timeout: 30_000 });
    const names = (await (await fetch(`${office.sim.url}/api/tags`)).json()) as {
      models: Array<{ name: string }>;
    };
    expect(names.models.map((m) => m.name)).toContain('gemma3:4b');
  });

  it("should ask before deleting the home's last copy of a model", async () => {
    await cell('all-minilm:latest', 'office').locator('[data-testid=cell-delete]').click();
    const dialog = page.locator('dialog[open]');
    expect(await dialog.locator('#confirm-text').textContent()).toBe(
      'office holds the last copy of all-minilm:latest in the home. Deleting it means downloading it again from the internet. Delete it?',
    );
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await row('all-minilm:latest').waitFor({ state: 'detached' });
  });

  it('should fit a phone: a card per model, no sideways scrolling', async () => {
    const phone = await (
      await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US', isMobile: true })
    ).newPage();
    await phone.context().addCookies(await page.context().cookies());
    await phone.goto(`${office.node.url}/models`);
    await phone.locator('[data-testid=model-row]').first().waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: join(SCREENSHOTS, 'phone-models.png'), fullPage: true });
    await phone.close();
  });
});

describe.skipIf(skipBrowser)(`${suiteName}: a copy from a peer`, () => {
  const dirs: string[] = [];
  let alice: TestNode;
  let bob: TestNode;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;

  /** An Ollama models directory on disk, which the sim keeps and the node shares. */
  const store = () => {
    const dir = mkdtempSync(join(tmpdir(), 'allerac-web-models-'));
    dirs.push(dir);
    return dir;
  };
  const digests = async (node: TestNode) =>
    (
      (await (await fetch(`${node.sim.url}/api/tags`)).json()) as {
        models: Array<{ name: string; digest: string }>;
      }
    ).models;

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    const bobStore = store();
    // 64 MiB of real weights: enough bytes through the mesh for the bar to be seen.
    bob = await startTestNode({
      name: 'bob',
      sim: { profile: 'fast', models: ['qwen3:8b'], storeDir: bobStore, modelBytes: 64 * 1024 * 1024 },
      ollamaModelsDir: bobStore,
    });
    const aliceStore = store();
    alice = await startTestNode({
      name: 'alice',
      sim: { profile: 'fast', models: [], storeDir: aliceStore },
      ollamaModelsDir: aliceStore,
      meshKeyFile: join(bob.dataDir, 'mesh.key'),
      bootstrap: bob.node.mesh.mesh.addresses(),
    });
    await waitFor(
      () => alice.node.mesh.peers().some((p) => p.name === 'bob' && p.models.includes('qwen3:8b')),
      30_000,
      'alice to see bob and its model',
    );
    chrome = await launchBrowser();
    page = await (
      await chrome.browser.newContext({ viewport: { width: 1280, height: 700 }, locale: 'en-US' })
    ).newPage();
    page.setDefaultTimeout(20_000);
    await claim(page, alice, 'alice');
  }, 120_000);

  afterAll(async () => {
    await chrome?.close();
    await alice?.teardown();
    await bob?.teardown();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('should copy a model from the peer that holds it, with a progress bar, to the same digests', async () => {
    await page.goto(`${alice.node.url}/models`);
    const target = page.locator(
      '[data-testid=model-row][data-model="qwen3:8b"] [data-testid=model-cell][data-node=alice]',
    );
    await target.locator('[data-testid=cell-copy]').click();
    const bar = target.locator('[data-testid=cell-progress] [role=progressbar]');
    await bar.waitFor();
    // For the screenshot, a bar that has moved, if the copy is slow enough to catch it moving.
    await waitFor(
      async () => Number((await bar.getAttribute('aria-valuenow').catch(() => '0')) ?? 0) > 0,
      5_000,
      'a moving bar',
    ).catch(() => {});
    await page.screenshot({ path: join(SCREENSHOTS, 'models-copy.png') });
    await target.locator('[data-testid=cell-state][data-state=present]').waitFor({ timeout: 60_000 });
    const copied = (await digests(alice)).find((m) => m.name === 'qwen3:8b');
    expect(copied?.digest).toBe((await digests(bob)).find((m) => m.name === 'qwen3:8b')?.digest);
    // The copy came over the mesh: alice's own transfers name bob as its source.
    const transfers = (await (await fetch(`${alice.node.url}/allerac/v1/models/transfers`)).json()) as {
      transfers: Array<{ model: string; node: string; source: string; status: string }>;
    };
    expect(transfers.transfers).toContainEqual(
      expect.objectContaining({ model: 'qwen3:8b', node: 'bob', source: 'peer', status: 'done' }),
    );
  });
});
