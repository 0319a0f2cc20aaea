import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginThrottle } from '../src/accounts/login-throttle.js';
import { hashPassword, verifyPassword } from '../src/accounts/password.js';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

/** A cookie jar of one client: the session cookie plus the readable CSRF cookie. */
interface Client {
  cookie: string;
  csrf: string;
}

function clientFrom(setCookie: string | string[] | undefined): Client {
  const list = Array.isArray(setCookie) ? setCookie : setCookie === undefined ? [] : [setCookie];
  const pairs = list.map((c) => c.split(';')[0]!);
  const csrf = pairs.find((p) => p.startsWith('allerac_csrf='))?.split('=')[1] ?? '';
  return { cookie: pairs.join('; '), csrf };
}

const ADMIN = { username: 'ana', password: 'correct horse battery', language: 'pt' };

describe('accounts: passwords', () => {
  it('should hash with scrypt, verify the right password and refuse a wrong one', async () => {
    const hash = await hashPassword('s3cret-password');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(hash).not.toContain('s3cret');
    expect(await verifyPassword('s3cret-password', hash)).toBe(true);
    expect(await verifyPassword('s3cret-passwore', hash)).toBe(false);
    expect(await verifyPassword('anything', 'not-a-hash')).toBe(false);
    expect(await hashPassword('s3cret-password')).not.toBe(hash);
  });

  it('should lock out with a doubling backoff after repeated failures', () => {
    let now = 0;
    const throttle = new LoginThrottle(() => now);
    for (let i = 0; i < 4; i++) throttle.fail(['user:x']);
    expect(throttle.retryAfterMs(['user:x'])).toBe(0);
    throttle.fail(['user:x']);
    const first = throttle.retryAfterMs(['user:x']);
    expect(first).toBeGreaterThan(0);
    now += first;
    throttle.fail(['user:x']);
    expect(throttle.retryAfterMs(['user:x'])).toBe(first * 2);
    throttle.succeed(['user:x']);
    expect(throttle.retryAfterMs(['user:x'])).toBe(0);
  });
});

describe('accounts: setup, sessions, CSRF and roles over HTTP', () => {
  let t: TestNode;
  let admin: Client;

  beforeAll(async () => {
    t = await startTestNode({ name: 'accounts', sim: { profile: 'fast', models: ['llama3.2:3b'] } });
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('should report a fresh node as needing setup and refuse /allerac without a session', async () => {
    const state = await t.node.http.inject({ method: 'GET', url: '/auth/state' });
    expect(state.json()).toMatchObject({ setup: { adminCreated: false, complete: false }, user: null });
    const refused = await t.node.http.inject({ method: 'GET', url: '/allerac/v1/dashboard' });
    expect(refused.statusCode).toBe(401);
  });

  it('should create the admin once, log them in with HttpOnly SameSite=Strict cookies, and refuse a second setup with 409', async () => {
    const created = await t.node.http.inject({ method: 'POST', url: '/auth/setup', payload: ADMIN });
    expect(created.statusCode).toBe(201);
    const cookies = created.headers['set-cookie'] as string[];
    const session = cookies.find((c) => c.startsWith('allerac_session='))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Strict/i);
    admin = clientFrom(cookies);
    const again = await t.node.http.inject({
      method: 'POST',
      url: '/auth/setup',
      payload: { username: 'mallory', password: 'another password' },
    });
    expect(again.statusCode).toBe(409);
    const row = await t.node.store.users.findWithHash('ana');
    expect(row?.passwordHash).toMatch(/^scrypt\$/);
    expect(row?.role).toBe('admin');
  });

  it('should finish setup once and answer 409 the second time', async () => {
    const body = {
      agentName: 'Kitchen',
      specializations: ['home', 'code'],
      chatModel: 'llama3.2:3b',
      language: 'pt',
    };
    const headers = { cookie: admin.cookie, 'x-csrf-token': admin.csrf };
    const done = await t.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/setup/complete',
      headers,
      payload: body,
    });
    expect(done.statusCode).toBe(200);
    expect(await t.node.store.settings.get('agent.specializations')).toEqual(['home', 'code']);
    const again = await t.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/setup/complete',
      headers,
      payload: body,
    });
    expect(again.statusCode).toBe(409);
    const state = await t.node.http.inject({
      method: 'GET',
      url: '/auth/state',
      headers: { cookie: admin.cookie },
    });
    expect(state.json()).toMatchObject({
      setup: { adminCreated: true, complete: true },
      user: { username: 'ana', role: 'admin' },
    });
  });

  it('should refuse a state-changing request with the session cookie but no CSRF token, and allow it with one', async () => {
    const without = await t.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/tokens',
      headers: { cookie: admin.cookie },
      payload: { name: 'ci' },
    });
    expect(without.statusCode).toBe(403);
    expect(without.json().error).toMatch(/CSRF/);
    const wrong = await t.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/tokens',
      headers: { cookie: admin.cookie, 'x-csrf-token': 'forged' },
      payload: { name: 'ci' },
    });
    expect(wrong.statusCode).toBe(403);
    const ok = await t.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/tokens',
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
      payload: { name: 'ci', role: 'member' },
    });
    expect(ok.statusCode).toBe(201);
    const { token, id } = ok.json();
    // A bearer token needs no CSRF token: no browser sends it on its own.
    const viaToken = await t.node.http.inject({
      method: 'GET',
      url: '/allerac/v1/conversations',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(viaToken.statusCode).toBe(200);
    const revoked = await t.node.http.inject({
      method: 'DELETE',
      url: `/allerac/v1/tokens/${id}`,
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    });
    expect(revoked.statusCode).toBe(204);
    const afterRevoke = await t.node.http.inject({
      method: 'GET',
      url: '/allerac/v1/conversations',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(afterRevoke.statusCode).toBe(401);
  });

  it('should refuse a wrong password with 401 and lock out after repeated failures', async () => {
    const wrong = await t.node.http.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'ana', password: 'wrong password' },
    });
    expect(wrong.statusCode).toBe(401);
    let locked: Awaited<ReturnType<typeof t.node.http.inject>> | undefined;
    for (let i = 0; i < 10 && locked === undefined; i++) {
      const attempt = await t.node.http.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: 'ana', password: `wrong ${i}` },
      });
      if (attempt.statusCode === 429) locked = attempt;
      else expect(attempt.statusCode).toBe(401);
    }
    expect(locked?.statusCode).toBe(429);
    expect(Number(locked?.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password waits out the lockout.
    const right = await t.node.http.inject({ method: 'POST', url: '/auth/login', payload: ADMIN });
    expect(right.statusCode).toBe(429);
  });

  it('should keep members to chat and their own conversations', async () => {
    const created = await t.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/users',
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
      payload: { username: 'kid', password: 'member password', role: 'member' },
    });
    expect(created.statusCode).toBe(201);
    const login = await t.node.http.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'kid', password: 'member password' },
      remoteAddress: '198.18.0.7',
    });
    expect(login.statusCode).toBe(200);
    const kid = clientFrom(login.headers['set-cookie']);
    const headers = { cookie: kid.cookie, 'x-csrf-token': kid.csrf };
    for (const url of [
      '/allerac/v1/dashboard',
      '/allerac/v1/users',
      '/allerac/v1/tokens',
      '/allerac/v1/node',
    ]) {
      const refused = await t.node.http.inject({ method: 'GET', url, headers });
      expect(refused.statusCode, url).toBe(403);
    }
    const pull = await t.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/models/pull',
      headers,
      payload: { model: 'x' },
    });
    expect(pull.statusCode).toBe(403);

    // A member's chat from another machine is authenticated by the session and claimed for them.
    const chat = await t.node.http.inject({
      method: 'POST',
      url: '/api/chat',
      headers,
      remoteAddress: '198.18.0.7',
      payload: { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hello' }], stream: false },
    });
    expect(chat.statusCode).toBe(200);
    const conversationId = chat.headers['x-allerac-conversation'] as string;
    expect(conversationId).toBeTruthy();
    const adminChat = await t.node.http.inject({
      method: 'POST',
      url: '/api/chat',
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
      payload: { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'admin only' }], stream: false },
    });
    const adminConversation = adminChat.headers['x-allerac-conversation'] as string;

    const mine = await t.node.http.inject({ method: 'GET', url: '/allerac/v1/conversations', headers });
    await t.node.http.inject({ method: 'GET', url: '/allerac/v1/conversations', headers });
    const ids = (mine.json().conversations as { id: string }[]).map((c) => c.id);
    expect(ids).not.toContain(adminConversation);
    const other = await t.node.http.inject({
      method: 'GET',
      url: `/allerac/v1/conversations/${adminConversation}/messages`,
      headers,
    });
    expect(other.statusCode).toBe(404);
    const hijack = await t.node.http.inject({
      method: 'POST',
      url: '/api/chat',
      headers: { ...headers, 'x-allerac-conversation': adminConversation },
      payload: { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'peek' }], stream: false },
    });
    expect(hijack.statusCode).toBe(403);
  });

  it('should refuse /api from another machine without a session or token', async () => {
    const refused = await t.node.http.inject({
      method: 'GET',
      url: '/api/tags',
      remoteAddress: '198.18.0.9',
    });
    expect(refused.statusCode).toBe(401);
    const token = issueAdminToken(t.dataDir, 'test');
    const allowed = await t.node.http.inject({
      method: 'GET',
      url: '/api/tags',
      remoteAddress: '198.18.0.9',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(allowed.statusCode).toBe(200);
  });

  it('should log out and forget the session', async () => {
    const out = await t.node.http.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrf },
    });
    expect(out.statusCode).toBe(204);
    const after = await t.node.http.inject({
      method: 'GET',
      url: '/allerac/v1/users',
      headers: { cookie: admin.cookie },
    });
    expect(after.statusCode).toBe(401);
  });
});
