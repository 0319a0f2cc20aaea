/**
 * Issue #14, "Chat": conversations can be renamed, deleted and searched, and those from API
 * clients are kept apart from the user's own behind a filter; members manage only their own.
 */

import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversationHeader } from '../src/contract/conversation.js';
import { migrate } from '../src/store/migrate.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { openPgliteDatabase } from '../src/store/pglite-database.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const MODEL = 'llama3.2:3b';

describe('managing conversations', () => {
  let t: TestNode;
  let admin: Record<string, string>;
  let member: Record<string, string>;

  const signIn = async (url: string, payload: Record<string, string>) => {
    const response = await t.node.http.inject({ method: 'POST', url, payload });
    expect(response.statusCode).toBeLessThan(300);
    const pairs = (response.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]!);
    const csrf = pairs.find((p) => p.startsWith('allerac_csrf='))!.split('=')[1]!;
    return { cookie: pairs.join('; '), 'x-csrf-token': csrf };
  };

  /** A finished, stored chat; `headers` {} is an API client on loopback. */
  const chat = async (headers: Record<string, string>, content: string): Promise<string> => {
    const answer = await t.node.http.inject({
      method: 'POST',
      url: '/api/chat',
      headers,
      payload: { model: MODEL, messages: [{ role: 'user', content }], stream: false },
    });
    expect(answer.statusCode).toBe(200);
    const id = answer.headers['x-allerac-conversation'] as string;
    await waitFor(
      async () => (await t.node.store.conversations.messages(id)).at(-1)?.status === 'complete',
      10_000,
      'the chat stored',
    );
    return id;
  };

  const list = async (headers: Record<string, string>, query = '') => {
    const response = await t.node.http.inject({
      method: 'GET',
      url: `/allerac/v1/conversations${query}`,
      headers,
    });
    expect(response.statusCode).toBe(200);
    return (response.json() as { conversations: ConversationHeader[] }).conversations.map((c) => c.id);
  };

  let adminChat: string;
  let memberChat: string;
  let apiChat: string;

  beforeAll(async () => {
    t = await startTestNode({ name: 'alice', sim: { profile: 'fast', models: [MODEL] } });
    admin = await signIn('/auth/setup', { username: 'ana', password: 'correct horse battery' });
    const created = await t.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/users',
      headers: admin,
      payload: { username: 'bea', password: 'another horse battery', role: 'member' },
    });
    expect(created.statusCode).toBe(201);
    member = await signIn('/auth/login', { username: 'bea', password: 'another horse battery' });
    adminChat = await chat(admin, 'When does the Bakery open?');
    memberChat = await chat(member, 'plan a birthday party');
    apiChat = await chat({}, 'a question from a script about the bakery');
  });

  afterAll(async () => {
    await t?.teardown();
  });

  it('should list the caller’s own UI chats by default, and API clients’ chats behind a filter', async () => {
    expect(await list(admin)).toEqual([adminChat]);
    expect(await list(admin, '?source=ui')).toEqual([adminChat]);
    expect(await list(admin, '?source=api')).toEqual([apiChat]);
    expect(new Set(await list(admin, '?source=all'))).toEqual(new Set([adminChat, memberChat, apiChat]));
    // A member sees only their own, whatever the filter.
    expect(await list(member)).toEqual([memberChat]);
    expect(await list(member, '?source=all')).toEqual([memberChat]);
    expect(await list(member, '?source=api')).toEqual([]);
  });

  it('should search titles and message text, case-insensitively, literally', async () => {
    // The title and the question say "Bakery"; the API chat says "bakery" only in its text.
    expect(new Set(await list(admin, '?source=all&q=bAKERY'))).toEqual(new Set([adminChat, apiChat]));
    expect(await list(admin, '?source=all&q=birthday')).toEqual([memberChat]);
    expect(await list(member, '?q=bakery')).toEqual([]);
    // LIKE's wildcards are text like any other.
    expect(await list(admin, '?source=all&q=%25')).toEqual([]);
    expect(await list(admin, '?source=all&q=_')).toEqual([]);
  });

  it('should rename a conversation, and refuse bad titles with 400', async () => {
    const renamed = await t.node.http.inject({
      method: 'PATCH',
      url: `/allerac/v1/conversations/${adminChat}`,
      headers: admin,
      payload: { title: '  Bakery   hours ' },
    });
    expect(renamed.statusCode).toBe(200);
    expect(Value.Check(ConversationHeader, renamed.json())).toBe(true);
    expect((renamed.json() as ConversationHeader).title).toBe('Bakery hours');
    expect(await list(admin, '?q=hours')).toEqual([adminChat]);
    for (const payload of [
      {},
      { title: '' },
      { title: '   ' },
      { title: 'x'.repeat(201) },
      { title: 7 },
      { title: 'a\u0000b' },
    ]) {
      const bad = await t.node.http.inject({
        method: 'PATCH',
        url: `/allerac/v1/conversations/${adminChat}`,
        headers: admin,
        payload,
      });
      expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const missing = await t.node.http.inject({
      method: 'PATCH',
      url: '/allerac/v1/conversations/no-such-id',
      headers: admin,
      payload: { title: 'nothing' },
    });
    expect(missing.statusCode).toBe(404);
  });

  it('should refuse bad list queries with 400', async () => {
    for (const query of ['?source=mine', '?source=ui&source=api', `?q=${'x'.repeat(201)}`, '?q=a&q=b']) {
      const bad = await t.node.http.inject({
        method: 'GET',
        url: `/allerac/v1/conversations${query}`,
        headers: admin,
      });
      expect(bad.statusCode, query).toBe(400);
    }
  });

  it('should refuse a member another user’s conversation with 403', async () => {
    for (const [method, url, payload] of [
      ['PATCH', `/allerac/v1/conversations/${adminChat}`, { title: 'mine now' }],
      ['DELETE', `/allerac/v1/conversations/${adminChat}`, undefined],
      ['POST', `/allerac/v1/conversations/${adminChat}/stop`, undefined],
      ['GET', `/allerac/v1/conversations/${adminChat}/live`, undefined],
    ] as const) {
      const refused = await t.node.http.inject({
        method,
        url,
        headers: member,
        ...(payload ? { payload } : {}),
      });
      expect(refused.statusCode, `${method} ${url}`).toBe(403);
    }
    expect((await t.node.store.conversations.get(adminChat))?.title).toBe('Bakery hours');
  });

  it('should delete a conversation with its messages', async () => {
    const deleted = await t.node.http.inject({
      method: 'DELETE',
      url: `/allerac/v1/conversations/${memberChat}`,
      headers: member,
    });
    expect(deleted.statusCode).toBe(204);
    expect(await t.node.store.conversations.messages(memberChat)).toEqual([]);
    expect(await t.node.store.conversationOwners.ownerOf(memberChat)).toBeUndefined();
    expect(await list(member)).toEqual([]);
    const again = await t.node.http.inject({
      method: 'DELETE',
      url: `/allerac/v1/conversations/${memberChat}`,
      headers: member,
    });
    expect(again.statusCode).toBe(404);
  });

  it('should answer /live with 204 when nothing is being generated', async () => {
    const idle = await t.node.http.inject({
      method: 'GET',
      url: `/allerac/v1/conversations/${adminChat}/live`,
      headers: admin,
    });
    expect(idle.statusCode).toBe(204);
  });
});

describe('the conversation-sources migration', () => {
  it('should file the web UI’s earlier chats, recorded under the API they used, as `ui`', async () => {
    const db = await openPgliteDatabase(undefined);
    try {
      await migrate(
        db,
        MIGRATIONS.filter((m) => m.version < 9),
      );
      await db.query("INSERT INTO users (id, username, password_hash) VALUES ('u1', 'ana', 'x')");
      await db.query(
        "INSERT INTO conversations (id, title, source) VALUES ('from-ui', 'a', 'ollama-api'), ('from-api', 'b', 'openai-api')",
      );
      await db.query("INSERT INTO conversation_owners (conversation_id, user_id) VALUES ('from-ui', 'u1')");
      await migrate(db);
      const rows = await db.query<{ id: string; source: string }>(
        'SELECT id, source FROM conversations ORDER BY id',
      );
      expect(rows).toEqual([
        { id: 'from-api', source: 'openai-api' },
        { id: 'from-ui', source: 'ui' },
      ]);
    } finally {
      await db.close();
    }
  });
});
