/**
 * Issue #14, "Panels and settings that speak to people", in Chromium: Settings renames the agent
 * (a peer's Agents page shows it within seconds), changes the default models and the password, and
 * the backup and update panels answer in sentences with buttons that act.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SOFTWARE_VERSION } from '@allerac/node';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chromiumMissing,
  ensureWebBuilt,
  launchBrowser,
  SCREENSHOTS,
  skipBrowser,
} from './helpers/browser.js';
import { startTestNode, type TestNode, waitFor } from './helpers/node.js';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'staple battery horse';
/** A name that is neither ASCII nor one word, as a household would choose it. */
const NEW_NAME = 'Sala de Estar 🛋️';

const suiteName = skipBrowser
  ? `settings and panels in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'settings and panels in Chromium';

/** Creates the first admin from loopback and finishes the setup through the API. */
async function setUp(page: Page, url: string, agentName: string): Promise<void> {
  await page.goto(`${url}/`);
  await page.evaluate(
    async ({ name, password }) => {
      const json = { 'Content-Type': 'application/json' };
      const setup = await fetch('/auth/setup', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ username: 'ana', password }),
      });
      if (!setup.ok) throw new Error(`setup: ${setup.status}`);
      const csrf = decodeURIComponent(/allerac_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '');
      const done = await fetch('/allerac/v1/setup/complete', {
        method: 'POST',
        headers: { ...json, 'X-CSRF-Token': csrf },
        body: JSON.stringify({ agentName: name, specializations: [], chatModel: 'llama3.2:3b' }),
      });
      if (!done.ok) throw new Error(`setup complete: ${done.status}`);
    },
    { name: agentName, password: PASSWORD },
  );
}

/** Calls the management API from the page, with its session and CSRF token. */
function pageApi(page: Page, path: string, method = 'GET', body?: unknown): Promise<unknown> {
  return page.evaluate(
    async ({ path, method, body }) => {
      const csrf = decodeURIComponent(/allerac_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '');
      const response = await fetch(path, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
      return response.status === 204 ? undefined : response.json();
    },
    { path, method, body },
  );
}

describe.skipIf(skipBrowser)(suiteName, () => {
  let alice: TestNode;
  let bob: TestNode;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let aliceContext: BrowserContext;
  let page: Page;
  let bobPage: Page;
  /** The release manifest the update source serves; a test sets the version. */
  let manifestVersion = SOFTWARE_VERSION;
  let releases: Server;
  let releasesUrl: string;

  beforeAll(async () => {
    if (chromiumMissing() !== undefined) throw new Error(chromiumMissing());
    ensureWebBuilt();
    alice = await startTestNode({
      name: 'alice',
      sim: {
        profile: 'fast',
        models: ['llama3.2:3b', 'gemma3:4b', 'all-minilm:latest', 'nomic-embed-text:latest'],
      },
    });
    bob = await startTestNode({
      name: 'bob',
      sim: { profile: 'fast', models: ['llama3.2:3b'] },
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    });
    await waitFor(
      () => bob.node.mesh.peers().some((peer) => peer.name === 'alice' && peer.status === 'online'),
      30_000,
      'alice online at bob',
    );
    releases = createServer((_request, response) => {
      response.setHeader('Content-Type', 'application/json');
      response.end(
        JSON.stringify({ version: manifestVersion, tarball: 'allerac.tgz', sha256: '0'.repeat(64) }),
      );
    });
    await new Promise<void>((resolve) => releases.listen(0, '127.0.0.1', resolve));
    releasesUrl = `http://127.0.0.1:${(releases.address() as AddressInfo).port}/manifest.json`;

    chrome = await launchBrowser();
    aliceContext = await chrome.browser.newContext({ locale: 'en-GB', timezoneId: 'UTC' });
    aliceContext.setDefaultTimeout(20_000);
    page = await aliceContext.newPage();
    await setUp(page, alice.node.url, 'alice');
    const bobContext = await chrome.browser.newContext({ locale: 'en-GB' });
    bobContext.setDefaultTimeout(20_000);
    bobPage = await bobContext.newPage();
    await setUp(bobPage, bob.node.url, 'bob');
  }, 120_000);

  afterAll(async () => {
    await chrome?.close();
    await new Promise((resolve) => (releases === undefined ? resolve(undefined) : releases.close(resolve)));
    await bob?.teardown();
    await alice?.teardown();
  });

  it("should show a rename in Settings on the peer's Agents page within seconds", async () => {
    await bobPage.goto(`${bob.node.url}/agents`);
    await bobPage.locator('[data-testid=agent-card][data-name="alice"]').waitFor();

    await page.goto(`${alice.node.url}/settings`);
    const agent = page.getByRole('region', { name: 'This agent' });
    await agent.getByLabel('Agent name').fill(NEW_NAME);
    await agent.getByRole('checkbox', { name: 'Home' }).check();
    await agent.getByRole('button', { name: 'Save' }).click();
    await agent.getByText('Saved.').waitFor();
    const renamed = bobPage.locator(`[data-testid=agent-card][data-name="${NEW_NAME}"]`);
    await renamed.waitFor({ timeout: 15_000 }).catch((error: unknown) => {
      const seen = bob.node.mesh.peers().map((peer) => peer.name);
      throw new Error(`bob's mesh sees ${JSON.stringify(seen)}: ${String(error)}`);
    });
    expect(await renamed.textContent()).toContain('Home');
    // This node's own header says the new name too.
    await page.locator('.brand').getByText(NEW_NAME).waitFor();
  });

  it('should change the default chat and embedding models from the models this node has', async () => {
    await page.goto(`${alice.node.url}/settings`);
    const models = page.getByRole('region', { name: 'Models' });
    const chat = models.getByLabel('Default chat model');
    await chat.getByRole('option', { name: 'gemma3:4b' }).waitFor({ state: 'attached' });
    // An embedding model is no chat model, and the other way round.
    expect(await chat.getByRole('option', { name: 'nomic-embed-text:latest' }).count()).toBe(0);
    await chat.selectOption('gemma3:4b');
    await models.getByLabel('Embedding model').selectOption('nomic-embed-text:latest');
    await models.getByRole('button', { name: 'Save' }).click();
    await models.getByText('Saved.').waitFor();

    expect(await pageApi(page, '/allerac/v1/me')).toMatchObject({ chatModel: 'gemma3:4b' });
    expect(await pageApi(page, '/allerac/v1/settings')).toMatchObject({
      'ui.chatModel': 'gemma3:4b',
      'memory.embeddingModel': 'nomic-embed-text:latest',
    });
    // A browser that has not picked a model starts the chat with the new default.
    await page.evaluate(() => localStorage.removeItem('allerac.model'));
    await page.goto(`${alice.node.url}/chat`);
    await waitFor(
      async () => (await page.locator('select').first().inputValue()) === 'gemma3:4b',
      10_000,
      'the chat page to start with the new default model',
    );
  });

  it('should say that serving the home network needs a token or a device key, and link to them', async () => {
    await page.goto(`${alice.node.url}/settings`);
    const network = page.getByRole('region', { name: 'Network' });
    await network.getByText('need a token or a device key').waitFor();
    // The listen address changes at the next start, and the page says so.
    await network.getByRole('switch', { name: 'Serve the home network' }).check();
    await network.getByRole('button', { name: 'Save' }).click();
    await network.getByText('Saved. It takes effect when the node restarts.').waitFor();
    expect(await pageApi(page, '/allerac/v1/settings')).toMatchObject({ 'http.serveLan': true });
    await network.getByRole('link', { name: 'Devices and tokens' }).click();
    await waitFor(() => page.url().endsWith('#devices'), 5_000, 'the link to the devices section');
  });

  it('should change the password, and sign in with the new one only', async () => {
    await page.goto(`${alice.node.url}/settings`);
    const form = page.getByRole('region', { name: 'Password' });
    await form.getByLabel('Current password').fill('not my password');
    await form.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await form.getByLabel('Repeat the new password').fill(NEW_PASSWORD);
    await form.getByRole('button', { name: 'Change password' }).click();
    await form.getByRole('alert').filter({ hasText: 'The current password is wrong.' }).waitFor();

    // A wrong current password is an answer to the form, not a lost session: the page stays.
    expect(page.url()).toMatch(/\/settings$/);

    await form.getByLabel('Current password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Change password' }).click();
    // The change ends every session, this one too: sign in again with the new password.
    await page.getByText('Your password is changed. Sign in with the new one.').waitFor();
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await page.getByLabel('Username').fill('ana');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('Wrong username or password.').waitFor();
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Chat' }).or(page.locator('.topbar')).first().waitFor();
    await waitFor(() => page.url().endsWith('/chat'), 10_000, 'the chat page after signing in');
  });

  it('should nudge when there are no backups, back up now, then say when the last one was', async () => {
    await page.goto(`${alice.node.url}/settings`);
    const panel = page.getByRole('region', { name: 'Backups' });
    await panel.getByText('No backups yet: set up nightly backups').waitFor();
    await panel.getByRole('button', { name: 'Back up now' }).click();
    const sentence = panel.getByTestId('backup-sentence');
    await sentence.getByText('Last backup: today').waitFor();
    // "Last backup: today 14:05, 180 kB": the time of day and a size in the chosen locale.
    expect(await sentence.textContent()).toMatch(
      /^Last backup: today \d{2}:\d{2}, [\d.,]+\s?(bytes|byte|B|kB|KB|MB)\b/,
    );
    // Backed up, but nothing scheduled: it still says how to keep it so.
    await panel.getByText('No schedule:').waitFor();

    await panel.getByLabel('How often').selectOption('nightly');
    await panel.getByLabel('At').fill('03:00');
    await panel.getByRole('button', { name: 'Schedule' }).click();
    await panel.getByText('Backs up every night at 03:00').waitFor();
    expect(await pageApi(page, '/allerac/v1/backups/status')).toMatchObject({
      schedule: { cron: '0 3 * * *' },
    });

    await panel.getByRole('button', { name: 'Restore…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('replaces everything on this node').waitFor();
    expect(await dialog.textContent()).toContain('allerac backup restore');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  it('should say whether the node is up to date, and which version is available', async () => {
    await pageApi(page, '/allerac/v1/update/settings', 'PUT', { source: { kind: 'url', url: releasesUrl } });
    await page.goto(`${alice.node.url}/settings`);
    const panel = page.getByRole('region', { name: 'Updates' });
    await panel.getByText('Update checks are off').waitFor();
    await panel.getByRole('button', { name: 'Allow update checks' }).click();
    await panel.getByRole('button', { name: 'Check now' }).click();
    await panel.getByText(`You are up to date (${SOFTWARE_VERSION}).`).waitFor();

    manifestVersion = '99.0.0';
    await panel.getByRole('button', { name: 'Check now' }).click();
    await panel.getByText('Version 99.0.0 is available').waitFor();
    // This node runs from a checkout: apply is the installer's work, and the panel says so.
    await panel.getByRole('button', { name: 'Apply…' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.textContent()).toContain('allerac update apply');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    await page.setViewportSize({ width: 1280, height: 2200 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SCREENSHOTS, 'settings.png'), fullPage: true });
  });
});
