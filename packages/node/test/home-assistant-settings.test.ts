/**
 * /allerac/v1/settings/home-assistant on a real node against ha-sim: the token goes in and never
 * comes out, it is kept in a 0600 file, and the test endpoint tells a wrong token apart.
 */
import { readFileSync, statSync } from 'node:fs';
import { type HaSim, startHaSim } from '@allerac/ha-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { DEFAULT_HA_ACTION_DOMAINS } from '../src/contract/home-assistant.js';
import { homeAssistantSettingsPath } from '../src/home-assistant/index.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

const ROUTE = '/allerac/v1/settings/home-assistant';

describe('Home Assistant settings', () => {
  let t: TestNode;
  let ha: HaSim;
  let auth: Record<string, string>;

  beforeAll(async () => {
    t = await startTestNode({ sim: false });
    ha = await startHaSim();
    auth = {
      authorization: `Bearer ${issueAdminToken(t.dataDir, 'test')}`,
      'content-type': 'application/json',
    };
  });
  afterAll(async () => {
    await t?.teardown();
    await ha?.close();
  });

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${t.node.url}${path}`, {
      method,
      headers: auth,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  it('should store the URL and token, never echo the token, and keep it in a 0600 file', async () => {
    const actionDomains = [...DEFAULT_HA_ACTION_DOMAINS];
    expect(await (await call('GET', ROUTE)).json()).toEqual({ url: null, tokenSet: false, actionDomains });
    const put = await call('PUT', ROUTE, { url: `${ha.url}/`, token: ha.token });
    expect(put.status).toBe(200);
    const putText = await put.text();
    expect(JSON.parse(putText)).toEqual({ url: ha.url, tokenSet: true, actionDomains });
    expect(putText).not.toContain(ha.token);
    const get = await (await call('GET', ROUTE)).text();
    expect(JSON.parse(get)).toEqual({ url: ha.url, tokenSet: true, actionDomains });
    expect(get).not.toContain(ha.token);
    const file = homeAssistantSettingsPath(t.dataDir);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ url: ha.url, token: ha.token, actionDomains });
    // A new URL alone keeps the stored token.
    const moved = await call('PUT', ROUTE, { url: 'http://127.0.0.1:9' });
    expect(await moved.json()).toEqual({ url: 'http://127.0.0.1:9', tokenSet: true, actionDomains });
    // The domains assistants may act in are this node's admin's to set, and stay until set again.
    const locks = await call('PUT', ROUTE, { url: 'http://127.0.0.1:9', actionDomains: ['light', 'lock'] });
    expect(await locks.json()).toMatchObject({ actionDomains: ['light', 'lock'] });
    const kept = await call('PUT', ROUTE, { url: 'http://127.0.0.1:9' });
    expect(await kept.json()).toMatchObject({ actionDomains: ['light', 'lock'] });
    await call('PUT', ROUTE, { url: 'http://127.0.0.1:9', actionDomains });
    expect(JSON.parse(readFileSync(file, 'utf8')).token).toBe(ha.token);
    await call('PUT', ROUTE, { url: ha.url });
  });

  it('should test the connection and say clearly when the token is wrong', async () => {
    const ok = await call('POST', `${ROUTE}/test`, {});
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, version: expect.any(String), locationName: 'Home' });
    const wrong = await call('POST', `${ROUTE}/test`, { token: 'not-the-token' });
    const wrongText = await wrong.text();
    expect(JSON.parse(wrongText)).toEqual({
      ok: false,
      problem: 'token_refused',
      message: expect.stringMatching(/Home Assistant refused the access token/),
    });
    expect(wrongText).not.toContain('not-the-token');
    const down = await call('POST', `${ROUTE}/test`, { url: 'http://127.0.0.1:9' });
    expect(await down.json()).toMatchObject({ ok: false, problem: 'unreachable' });
  });

  it('should answer bad input with a 400', async () => {
    for (const body of [
      { url: 'ftp://ha.local', token: 'x' },
      { url: 'not a url', token: 'x' },
      { url: 'http://ha.local:8123', token: '' },
      { url: 'http://ha.local:8123', token: 'with space' },
      { url: 'http://ha.local:8123', token: 'x', actionDomains: ['Light!'] },
      { url: 42 },
      {},
    ]) {
      const response = await call('PUT', ROUTE, body);
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
    }
    const test = await call('POST', `${ROUTE}/test`, { url: 'file:///etc/passwd' });
    expect(test.status).toBe(400);
  });

  it('should need a token when none is stored yet', async () => {
    const other = await startTestNode({ sim: false, name: 'bob' });
    try {
      const response = await fetch(`${other.node.url}${ROUTE}`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${issueAdminToken(other.dataDir, 'test')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ url: ha.url }),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toMatch(/a token is needed/);
    } finally {
      await other.teardown();
    }
  });

  it('should refuse the routes without an admin token', async () => {
    const response = await fetch(`${t.node.url}${ROUTE}`);
    expect(response.status).toBe(401);
  });
});
