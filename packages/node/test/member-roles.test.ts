import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { declaredRoutes } from '../src/http/route-access.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

/** A concrete path for a route pattern. */
const concrete = (pattern: string) => pattern.replace(/:[^/]+/g, 'x').replace(/\*/g, 'x');

describe('the member role, route by route', () => {
  let t: TestNode;
  let admin: string;
  let member: string;
  let otherMember: string;
  let adminSecret: string;

  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const call = (token: string, method: string, url: string, payload?: unknown) =>
    t.node.http.inject({
      method: method as 'GET',
      url,
      headers: as(token),
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  beforeAll(async () => {
    t = await startTestNode({ name: 'study', sim: { profile: 'fast' } });
    admin = issueAdminToken(t.dataDir);
    const issue = async (name: string) =>
      (await call(admin, 'POST', '/allerac/v1/tokens', { name, role: 'member' })).json().token as string;
    member = await issue('kid');
    otherMember = await issue('teen');
    const created = await call(admin, 'POST', '/allerac/v1/memories', { text: 'the safe code is 4812' });
    expect(created.statusCode).toBe(201);
    adminSecret = created.json().id;
    await call(admin, 'POST', '/allerac/v1/spaces', { name: 'family', peers: 'all' });
  });
  afterAll(async () => t?.teardown());

  it('should refuse every admin route to a member with 403', async () => {
    const adminRoutes = declaredRoutes(t.node.http).filter(
      (r) => (r.access === 'admin' || r.access === 'local-or-admin') && r.method !== 'HEAD',
    );
    expect(adminRoutes.length).toBeGreaterThan(20);
    const open: string[] = [];
    for (const route of adminRoutes) {
      const response = await t.node.http.inject({
        method: route.method as 'GET',
        url: concrete(route.url),
        headers: { ...as(member), 'content-type': 'application/json' },
        payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}',
      });
      if (response.statusCode !== 403) open.push(`${route.method} ${route.url} → ${response.statusCode}`);
    }
    expect(open).toEqual([]);
    // Peers, tokens, backups and updates by name, as the threat model lists them.
    for (const [method, url] of [
      ['GET', '/allerac/v1/peers'],
      ['DELETE', '/allerac/v1/peers/x'],
      ['GET', '/allerac/v1/tokens'],
      ['GET', '/allerac/v1/backups'],
      ['GET', '/allerac/v1/update/status'],
      ['POST', '/allerac/v1/pairing/invitations'],
      ['POST', '/allerac/v1/pairing/join'],
    ] as const) {
      expect((await call(member, method, url)).statusCode, url).toBe(403);
    }
  });

  it('should let a member chat, see the shared spaces and its own account', async () => {
    expect((await call(member, 'GET', '/api/tags')).statusCode).toBe(200);
    expect((await call(member, 'GET', '/allerac/v1/spaces')).statusCode).toBe(200);
    expect((await call(member, 'GET', '/allerac/v1/me')).json().principal.role).toBe('member');
    const chat = await call(member, 'POST', '/api/chat', {
      model: 'llama3.2:3b',
      stream: false,
      messages: [{ role: 'user', content: 'hello' }],
    });
    expect(chat.statusCode).toBe(200);
  });

  it("should never show a member an admin's private memory, under any route", async () => {
    const list = (await call(member, 'GET', '/allerac/v1/memories')).json();
    expect(list.memories.map((m: { id: string }) => m.id)).not.toContain(adminSecret);
    expect((await call(member, 'GET', `/allerac/v1/memories/${adminSecret}`)).statusCode).toBe(404);
    expect(
      (await call(member, 'PATCH', `/allerac/v1/memories/${adminSecret}`, { text: 'changed' })).statusCode,
    ).toBe(404);
    expect(
      (await call(member, 'POST', `/allerac/v1/memories/${adminSecret}/share`, { space: 'family' }))
        .statusCode,
    ).toBe(404);
    expect((await call(member, 'POST', `/allerac/v1/memories/${adminSecret}/unshare`)).statusCode).toBe(404);
    expect((await call(member, 'DELETE', `/allerac/v1/memories/${adminSecret}`)).statusCode).toBe(404);
    await waitFor(
      async () =>
        (await call(admin, 'POST', '/allerac/v1/memories/search', { query: 'safe code' })).json().results
          ?.length > 0,
      20_000,
      'the admin memory to be searchable',
    );
    const search = (await call(member, 'POST', '/allerac/v1/memories/search', { query: 'safe code' })).json();
    expect(search.results.map((r: { id: string }) => r.id)).not.toContain(adminSecret);
    // The admin's memory is untouched.
    expect((await call(admin, 'GET', `/allerac/v1/memories/${adminSecret}`)).json().text).toBe(
      'the safe code is 4812',
    );
  });

  it('should let a member keep its own memories and share only those', async () => {
    const mine = (await call(member, 'POST', '/allerac/v1/memories', { text: 'I like green' })).json();
    expect((await call(member, 'GET', `/allerac/v1/memories/${mine.id}`)).statusCode).toBe(200);
    // Another member does not see it while it is private, and cannot change it once shared.
    expect((await call(otherMember, 'GET', `/allerac/v1/memories/${mine.id}`)).statusCode).toBe(404);
    const shared = await call(member, 'POST', `/allerac/v1/memories/${mine.id}/share`, { space: 'family' });
    expect(shared.statusCode).toBe(200);
    expect((await call(otherMember, 'GET', `/allerac/v1/memories/${mine.id}`)).statusCode).toBe(200);
    expect((await call(otherMember, 'DELETE', `/allerac/v1/memories/${mine.id}`)).statusCode).toBe(403);
    expect((await call(otherMember, 'POST', `/allerac/v1/memories/${mine.id}/unshare`)).statusCode).toBe(403);
    // Members cannot create spaces; the admin sees everything on the node.
    expect(
      (await call(member, 'POST', '/allerac/v1/spaces', { name: 'mine', peers: 'all' })).statusCode,
    ).toBe(403);
    const all = (await call(admin, 'GET', '/allerac/v1/memories')).json();
    expect(all.memories.map((m: { id: string }) => m.id)).toEqual(
      expect.arrayContaining([adminSecret, mine.id]),
    );
    expect((await call(member, 'DELETE', `/allerac/v1/memories/${mine.id}`)).statusCode).toBe(204);
  });
});
