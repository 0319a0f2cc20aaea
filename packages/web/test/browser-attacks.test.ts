import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchBrowser, skipBrowser } from './helpers/browser.js';
import { startTestNode, type TestNode } from './helpers/node.js';

/** Names a rebinding or cross-site attacker would own; Chromium resolves them to loopback here. */
const ATTACKER = 'attacker.test';
const REBOUND = 'rebind.test';

const suiteName = skipBrowser
  ? `browser attacks in Chromium (skipped: ${chromiumMissing()}; not root)`
  : 'browser attacks in Chromium';

describe.skipIf(skipBrowser)(suiteName, () => {
  let t: TestNode;
  let chrome: Awaited<ReturnType<typeof launchBrowser>>;
  let attackerSite: Server;
  let nodePort: number;
  let attackerPort: number;

  beforeAll(async () => {
    t = await startTestNode({ name: 'porch' });
    nodePort = (t.node.http.server.address() as AddressInfo).port;
    // The attacker's page: it tries what a page of another origin can do without reading answers.
    attackerSite = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end('<!doctype html><title>cute cats</title><p>cats</p>');
    });
    await new Promise<void>((resolve) => attackerSite.listen(0, '127.0.0.1', resolve));
    attackerPort = (attackerSite.address() as AddressInfo).port;
    chrome = await launchBrowser([
      `--host-resolver-rules=MAP ${ATTACKER} 127.0.0.1, MAP ${REBOUND} 127.0.0.1`,
    ]);
  }, 120_000);

  afterAll(async () => {
    await chrome?.close();
    await new Promise((resolve) => attackerSite?.close(resolve));
    await t?.teardown();
  });

  it('should not let a page of another origin claim a fresh node or plant a memory', async () => {
    const page = await chrome.browser.newPage();
    await page.goto(`http://${ATTACKER}:${attackerPort}/`);
    const node = `http://127.0.0.1:${nodePort}`;
    const attempts = await page.evaluate(async (base) => {
      const body = JSON.stringify({ username: 'mallory', password: 'long enough password' });
      const simple = (path: string, payload: string) =>
        fetch(`${base}${path}`, {
          method: 'POST',
          mode: 'no-cors',
          headers: { 'content-type': 'text/plain' },
          body: payload,
        }).then(
          () => 'sent',
          (error: Error) => error.message,
        );
      const read = await fetch(`${base}/api/tags`).then(
        (r) => `read ${r.status}`,
        () => 'blocked',
      );
      return {
        setup: await simple('/auth/setup', body),
        memory: await simple('/allerac/v1/memories', JSON.stringify({ text: 'planted' })),
        chat: await simple('/api/chat', JSON.stringify({ model: 'llama3.2:3b', messages: [] })),
        read,
      };
    }, node);
    // The requests left the page (no-cors hides the answers); the node refused them all.
    expect(attempts.setup).toBe('sent');
    expect(attempts.read).toBe('blocked');
    const state = (await t.node.http.inject({ url: '/auth/state' })).json();
    expect(state.setup.adminCreated).toBe(false);
    expect(await t.node.store.memories.count()).toBe(0);
    expect(await t.node.store.conversations.counts()).toMatchObject({ conversations: 0 });
    await page.close();
  });

  it('should refuse a page that reaches the node through DNS rebinding', async () => {
    const page = await chrome.browser.newPage();
    const response = await page.goto(`http://${REBOUND}:${nodePort}/api/tags`);
    expect(response?.status()).toBe(403);
    const sameOriginRead = await page.evaluate(async () => {
      const r = await fetch('/auth/state');
      return { status: r.status, text: await r.text() };
    });
    expect(sameOriginRead.status).toBe(403);
    expect(sameOriginRead.text).not.toMatch(/adminCreated/);
    await page.close();
  });
});
