import { join } from 'node:path';
import { expectedAnswer, startOllamaSim } from '@allerac/ollama-sim';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumMissing,
  ensureWebBuilt,
  launchBrowser,
  SCREENSHOTS,
  skipBrowser,
} from './helpers/browser.js';
import { type NodeProcess, startNodeProcess, startTestNode, type TestNode, waitFor } from './helpers/node.js';

const CHAT_MODEL = 'llama3.2:3b';
const PULLED_MODEL = 'qwen2.5-coder:7b';
const ADMIN = { username: 'ana', password: 'correct horse battery' };
const TEST_PROMPT = 'Say hello in one short sentence.';

/** Saves a screenshot for the README, once any toast has gone (they last 4 s). */
async function shot(page: Page, name: string): Promise<void> {
  await page
    .waitForFunction(() => document.querySelectorAll('.toast').length === 0, undefined, { timeout: 10_000 })
    .catch(() => {});
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

const suiteName = skipBrowser
  ? `web ui in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'web ui in Chromium';

describe.skipIf(skipBrowser)(suiteName, () => {
  let t: TestNode;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    t = await startTestNode({
      name: 'kitchen',
      sim: { profile: 'fast', models: [CHAT_MODEL, 'all-minilm:latest'] },
    });
    chrome = await launchBrowser();
    browser = chrome.browser;
    context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      locale: 'en-US',
      colorScheme: 'light',
    });
    context.setDefaultTimeout(20_000);
    page = await context.newPage();
  }, 120_000);

  afterAll(async () => {
    await context?.close().catch(() => {});
    await chrome?.close();
    await t?.teardown();
  });

  it('should walk the setup wizard from a fresh node to a streamed chat answer', async () => {
    await page.goto(`${t.node.url}/`);
    await page.waitForURL('**/setup');
    // 1: language, before any form
    await page.getByRole('heading', { name: 'Choose the language' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    // 2: the admin account
    await page.getByLabel('Admin username').fill(ADMIN.username);
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await shot(page, 'setup');
    await page.getByRole('button', { name: 'Create account' }).click();
    // 3: agent
    await page.getByLabel('Agent name').fill('Kitchen');
    await page.getByRole('checkbox', { name: 'Code' }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    // 4: models, with a real pull
    await page.getByRole('heading', { name: 'Choose the models' }).waitFor();
    expect(await page.getByLabel('Chat model').inputValue()).toBe(CHAT_MODEL);
    await page.getByLabel('Model to download').fill(PULLED_MODEL);
    await page.getByRole('button', { name: 'Pull' }).click();
    const bar = page.getByRole('progressbar');
    await bar.waitFor();
    await page.waitForFunction(
      () => document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') === '100',
      undefined,
      { timeout: 30_000 },
    );
    await page.getByText(`${PULLED_MODEL} is ready.`).waitFor();
    await shot(page, 'setup-models');
    expect(
      (await fetch(`${t.sim!.url}/api/tags`).then((r) => r.json())).models.map(
        (m: { name: string }) => m.name,
      ),
    ).toContain(PULLED_MODEL);
    await page.getByLabel('Chat model').selectOption(CHAT_MODEL);
    await page.getByRole('button', { name: 'Next' }).click();
    // 5: test the AI connection with a streamed answer
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('It works.').waitFor({ timeout: 30_000 });
    const expected = expectedAnswer(CHAT_MODEL, [{ role: 'user', content: TEST_PROMPT }]);
    expect((await page.getByTestId('test-answer').textContent())?.trim()).toBe(expected.trim());
    await page.getByRole('button', { name: 'Finish setup' }).click();
    await page.waitForURL('**/chat');
    expect(await t.node.store.settings.get('agent.specializations')).toEqual(['home', 'code']);

    // Chat: a streamed answer that says which node served it.
    const question = 'When was the dishwasher filter changed?';
    await page.getByLabel('Message').fill(question);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByTestId('answered-by').waitFor({ timeout: 30_000 });
    // The wizard's name applies at once: the node started as "kitchen" now answers as "Kitchen".
    expect(await page.getByTestId('answered-by').textContent()).toContain('Kitchen');
    const answer = expectedAnswer(CHAT_MODEL, [{ role: 'user', content: question }]);
    await page.waitForFunction(
      (text) => document.querySelector('.bubble-assistant .bubble-text')?.textContent === text,
      answer,
      { timeout: 30_000 },
    );
    await page
      .getByTestId('conversation')
      .getByRole('button', { name: /^When was the dishwasher/ })
      .waitFor({ timeout: 10_000 });
    await shot(page, 'chat');

    // The conversation is in the store and can be reopened.
    const conversations = await page.evaluate(() => fetch('/allerac/v1/conversations').then((r) => r.json()));
    expect(conversations.conversations.length).toBeGreaterThanOrEqual(1);
  });

  it('should refuse a state-changing request without the CSRF token', async () => {
    const statuses = await page.evaluate(async () => {
      const csrf = /allerac_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
      const body = JSON.stringify({ name: 'from-the-page' });
      const without = await fetch('/allerac/v1/tokens', {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/json' },
      });
      const withToken = await fetch('/allerac/v1/tokens', {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      });
      return [without.status, withToken.status];
    });
    expect(statuses).toEqual([403, 201]);
  });

  it('should draw live charts on the dashboard', async () => {
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.waitForURL('**/dashboard');
    // Two samples (2 s apart) are enough for a line.
    await page.waitForFunction(
      () =>
        Number(
          document.querySelector('[data-testid=metric-cpu] svg.chart')?.getAttribute('data-points') ?? 0,
        ) >= 2,
      undefined,
      { timeout: 30_000 },
    );
    for (const metric of ['cpu', 'ram', 'swap', 'disk']) {
      expect(await page.locator(`[data-testid=metric-${metric}] svg.chart polyline`).count()).toBe(1);
    }
    await page.getByText(PULLED_MODEL).first().waitFor();
    await shot(page, 'dashboard');
  });

  it('should show this node on the agents page', async () => {
    await page.getByRole('link', { name: 'Agents' }).click();
    await page.waitForURL('**/agents');
    await page.locator('[data-testid=agent-card][data-name=Kitchen]').waitFor();
    expect(await page.locator('[data-testid=agent-card][data-name=Kitchen]').textContent()).toContain(
      CHAT_MODEL,
    );
    await shot(page, 'agents-alone');
  });

  it('should show a second node of the mesh on the agents page', async () => {
    // Bob is a separate process sharing kitchen's mesh key and dialling its addresses.
    const sim = await startOllamaSim({ profile: 'fast', models: [PULLED_MODEL] });
    let bob: NodeProcess | undefined;
    try {
      const self = await page.evaluate(() => fetch('/allerac/v1/node').then((r) => r.json()));
      bob = await startNodeProcess({
        name: 'bob',
        ollamaUrl: sim.url,
        meshKeyFile: join(t.dataDir, 'mesh.key'),
        bootstrap: self.addresses,
      });
      await waitFor(
        () => t.node.mesh.peers().some((p) => p.name === 'bob' && p.status === 'online'),
        30_000,
        'bob online',
      );
      await page.locator('[data-testid=agent-card][data-name=bob]').waitFor({ timeout: 20_000 });
      await page.waitForFunction(
        (model) =>
          document.querySelector('[data-testid=agent-card][data-name=bob]')?.textContent?.includes(model) ??
          false,
        PULLED_MODEL,
        { timeout: 20_000 },
      );
      await shot(page, 'agents');
    } finally {
      await bob?.stop();
      await sim.close();
    }
  });

  it('should add, search and share a memory', async () => {
    await page.getByRole('link', { name: 'Memories' }).click();
    await page.waitForURL('**/memories');
    await page.getByLabel('New memory').fill('The dishwasher filter was changed in March.');
    await page.getByLabel('Tags (comma separated)').fill('home, kitchen');
    await page.getByRole('button', { name: 'Remember', exact: true }).click();
    const item = page.getByTestId('memory').filter({ hasText: 'dishwasher filter' });
    await item.waitFor();
    expect(await item.textContent()).toContain('Private');

    await page.getByLabel('Space name').fill('family');
    await page.getByRole('button', { name: 'Create space' }).click();
    await page.getByText('Shared with every agent').waitFor();

    await page.getByLabel('Search memories').fill('dishwasher filter');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page
      .getByText(/match \d+%/)
      .first()
      .waitFor();
    expect(await page.getByTestId('memory').first().textContent()).toContain('dishwasher filter');

    await item.getByLabel('Share to space').selectOption('family');
    await page.getByTestId('memory').filter({ hasText: 'Shared in family' }).waitFor();
    await shot(page, 'memories');
  });

  it('should note under an answer which memories this node could use, and list the ones it did', async () => {
    await page.getByRole('link', { name: 'Chat' }).click();
    await page.waitForURL('**/chat');
    await page.getByRole('button', { name: /New/ }).click();
    await page.getByLabel('Message').fill('When was the dishwasher filter changed?');
    await page.getByRole('button', { name: 'Send' }).click();
    const note = page.getByTestId('memory-note');
    await note.waitFor({ timeout: 30_000 });
    expect(await note.getAttribute('data-scope')).toBe('private+shared');
    expect(await note.textContent()).toMatch(/Answered here: .*\(1 used\)/);
    expect(await page.locator('.memories-used').textContent()).toContain('dishwasher filter');
  });

  it('should create and revoke an API token in settings', async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByLabel('Token name').fill('open-webui');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.getByTestId('new-token').textContent())?.trim() ?? '';
    expect(token).toMatch(/^alr_/);
    const ok = await fetch(`${t.node.url}/allerac/v1/conversations`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.status).toBe(200);
    await shot(page, 'settings');
    await page
      .getByRole('row', { name: /open-webui/ })
      .getByRole('button', { name: 'Revoke' })
      .click();
    await page
      .getByRole('row', { name: /open-webui/ })
      .getByText('revoked')
      .waitFor();
    const refused = await fetch(`${t.node.url}/allerac/v1/conversations`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(refused.status).toBe(401);
  });

  it('should require a login, refuse a wrong password and accept the right one', async () => {
    const fresh = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
    try {
      const other = await fresh.newPage();
      other.setDefaultTimeout(20_000);
      await other.goto(`${t.node.url}/dashboard`);
      await other.waitForURL('**/login');
      const api = await other.evaluate(() => fetch('/allerac/v1/dashboard').then((r) => r.status));
      expect(api).toBe(401);
      await other.getByLabel('Username').fill(ADMIN.username);
      await other.getByLabel('Password').fill('not the password');
      await other.getByRole('button', { name: 'Sign in' }).click();
      await other.getByRole('alert').getByText('Wrong username or password.').waitFor();
      await shot(other, 'login');
      await other.getByLabel('Password').fill(ADMIN.password);
      await other.getByRole('button', { name: 'Sign in' }).click();
      await other.waitForURL('**/chat');
      await shot(other, 'chat-phone');
    } finally {
      await fresh.close();
    }
  });
});
