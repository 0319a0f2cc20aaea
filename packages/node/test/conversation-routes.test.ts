import { type FastifyInstance, fastify } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/auth/api-tokens.js';
import { errorBody, toHttpError } from '../src/http/errors.js';
import { LiveAnswers } from '../src/inference/live-answers.js';
import { openPgliteDatabase } from '../src/store/pglite-database.js';
import { createStore, type Store } from '../src/store/store.js';
import { registerConversationRoutes } from '../src/ui/conversation-routes.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const ANA: Principal = { kind: 'session', role: 'member', id: 'user-ana', name: 'ana' };
const BEA: Principal = { kind: 'session', role: 'member', id: 'user-bea', name: 'bea' };

describe('the UI settles a chat’s conversation id in the request context', () => {
  let store: Store;
  let app: FastifyInstance;

  beforeAll(async () => {
    store = await createStore(await openPgliteDatabase(undefined));
    for (const user of [ANA, BEA]) {
      await store.users.insert({ id: user.id!, username: user.name!, passwordHash: 'x', role: 'member' });
    }
    app = fastify();
    // Who asks, as the access hook would have found it from the session cookie.
    app.addHook('onRequest', async (request) => {
      request.principal = request.headers['x-test-user'] === 'bea' ? BEA : ANA;
    });
    // Domain errors become statuses at the edge, as the node's server does it.
    app.setErrorHandler(async (error, _request, reply) => {
      const http = toHttpError(error);
      return reply.status(http.status).send(errorBody('allerac', http));
    });
    registerConversationRoutes(app, { store, logger: pino({ level: 'silent' }), live: new LiveAnswers() });
    // What the chat handler sees: the request's headers as the client sent them, and the context.
    app.post('/api/chat', async (request) => ({
      header: request.headers['x-allerac-conversation'] ?? null,
      context: request.conversationId ?? null,
    }));
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  const chat = (headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/api/chat', headers, payload: { model: 'm', messages: [] } });

  it('should claim a new conversation for the user without writing it into the headers', async () => {
    const seen = (await chat()).json() as { header: string | null; context: string | null };
    expect(seen.header).toBeNull();
    expect(seen.context).toMatch(/^[0-9a-f-]{36}$/);
    expect(await store.conversationOwners.ownerOf(seen.context!)).toBe(ANA.id);
  });

  it('should carry a conversation the user continues, and refuse someone else’s', async () => {
    const first = (await chat()).json() as { context: string };
    const again = await chat({ 'x-allerac-conversation': first.context });
    expect(again.json()).toEqual({ header: first.context, context: first.context });
    const stranger = await chat({ 'x-allerac-conversation': first.context, 'x-test-user': 'bea' });
    expect(stranger.statusCode).toBe(403);
    expect(stranger.json()).toEqual({ error: 'this conversation belongs to someone else' });
  });
});

describe('a chat from the UI is recorded under the conversation claimed for its user', () => {
  let t: TestNode;

  beforeAll(async () => {
    t = await startTestNode({ name: 'alice', sim: { profile: 'fast', models: ['llama3.2:3b'] } });
  });

  afterAll(async () => {
    await t?.teardown();
  });

  it('should answer with, store under and list for the user the one id the UI claimed', async () => {
    const setup = await t.node.http.inject({
      method: 'POST',
      url: '/auth/setup',
      payload: { username: 'ana', password: 'correct horse battery' },
    });
    expect(setup.statusCode).toBe(201);
    const pairs = (setup.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]!);
    const csrf = pairs.find((p) => p.startsWith('allerac_csrf='))!.split('=')[1]!;
    const headers = { cookie: pairs.join('; '), 'x-csrf-token': csrf };
    const answer = await t.node.http.inject({
      method: 'POST',
      url: '/api/chat',
      headers,
      payload: { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'hello' }], stream: false },
    });
    expect(answer.statusCode).toBe(200);
    const id = answer.headers['x-allerac-conversation'] as string;
    const user = (await t.node.store.users.list()).find((u) => u.username === 'ana')!;
    expect(await t.node.store.conversationOwners.ownerOf(id)).toBe(user.id);
    await waitFor(async () => (await t.node.store.conversations.messages(id)).length === 2);
    const listed = await t.node.http.inject({ method: 'GET', url: '/allerac/v1/conversations', headers });
    expect(
      (listed.json() as { conversations: Array<{ id: string }> }).conversations.map((c) => c.id),
    ).toContain(id);
  });
});
