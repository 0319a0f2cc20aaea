/**
 * Issue #12, "one typed contract": a real node with a real peer answers every request each web
 * page makes, and every answer parses against its schema in contract/. Responses are closed
 * objects, so a field the node sends but the contract lacks fails here as surely as a missing one.
 */
import { join } from 'node:path';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as contract from '../src/contract/index.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const CHAT_MODEL = 'llama3.2:3b';
const PULLED_MODEL = 'qwen2.5-coder:7b';

/** The schema's complaints about `value`, as `path: message` lines (empty when it conforms). */
function problems(schema: TSchema, value: unknown): string[] {
  return [...Value.Errors(schema, value)].slice(0, 5).map((e) => `${e.path || '/'}: ${e.message}`);
}

/** Checks one answer against its schema, naming the request when it does not conform. */
function expectConforms(label: string, schema: TSchema, value: unknown): void {
  expect({ [label]: problems(schema, value) }).toEqual({ [label]: [] });
}

/** A browser's session: its cookies and the CSRF token it echoes on writes. */
interface Session {
  cookie: string;
  csrf: string;
}

/** The events of a server-sent-events body, until `enough` says so or the stream ends. */
async function readEvents(
  response: Response,
  enough: (events: Array<{ event: string; data: unknown }>) => boolean,
): Promise<Array<{ event: string; data: unknown }>> {
  const events: Array<{ event: string; data: unknown }> = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    while (!enough(events)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = [...block.matchAll(/^data: (.*)$/gm)].map((m) => m[1]).join('\n');
        if (data !== '') events.push({ event, data: JSON.parse(data) });
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return events;
}

describe('the contract between the node and its web UI', () => {
  let alice: TestNode;
  let bob: TestNode;
  let session: Session;

  /** A request as the web UI makes it: same cookies, CSRF header on writes, JSON both ways. */
  const call = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const headers: Record<string, string> = { cookie: session.cookie };
    if (method !== 'GET')
      Object.assign(headers, { 'content-type': 'application/json', 'x-csrf-token': session.csrf });
    return fetch(`${alice.node.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  };

  /** Calls, expects `status`, and checks the JSON answer against `schema`. */
  const expectAnswer = async <S extends TSchema>(
    method: string,
    path: string,
    schema: S,
    options: { body?: unknown; status?: number } = {},
  ): Promise<Static<S>> => {
    const response = await call(method, path, options.body);
    const text = await response.text();
    expect({ [`${method} ${path}`]: response.status }).toEqual({
      [`${method} ${path}`]: options.status ?? 200,
    });
    const json: unknown = JSON.parse(text);
    expectConforms(`${method} ${path}`, schema, json);
    return json as Static<S>;
  };

  beforeAll(async () => {
    alice = await startTestNode({
      name: 'alice',
      sim: { profile: 'fast', models: [CHAT_MODEL, 'all-minilm:latest'] },
    });
    bob = await startTestNode({
      name: 'bob',
      sim: { profile: 'fast', models: ['gemma3:4b'] },
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    });
    await waitFor(
      () => alice.node.mesh.peers().some((peer) => peer.name === 'bob' && peer.status === 'online'),
      30_000,
      'bob online at alice',
    );
  }, 120_000);

  afterAll(async () => {
    await bob?.teardown();
    await alice?.teardown();
  });

  it('should answer the login and setup pages in the contract', async () => {
    const state = await fetch(`${alice.node.url}/auth/state`).then((r) => r.json());
    expectConforms('GET /auth/state (fresh)', contract.AuthState, state);
    const created = await fetch(`${alice.node.url}/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ana', password: 'correct horse battery', language: 'en' }),
    });
    expect(created.status).toBe(201);
    expectConforms('POST /auth/setup', contract.SignedIn, await created.json());
    const pairs = created.headers.getSetCookie().map((c) => c.split(';')[0]!);
    session = {
      cookie: pairs.join('; '),
      csrf: decodeURIComponent(pairs.find((p) => p.startsWith('allerac_csrf='))!.split('=')[1]!),
    };
    await expectAnswer('GET', '/auth/state', contract.AuthState);

    const recommendation = await expectAnswer(
      'GET',
      '/allerac/v1/setup/recommendation',
      contract.Recommendation,
    );
    expect(recommendation.installed.map((m) => m.name)).toContain(CHAT_MODEL);
    const pull = await call('POST', '/allerac/v1/models/pull', { model: PULLED_MODEL });
    expect(pull.status).toBe(200);
    const pulled = await readEvents(pull, (events) => events.some((e) => e.event === 'done'));
    const progress = pulled.filter((e) => e.event === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    for (const { data } of progress) expectConforms('pull progress event', contract.PullProgress, data);
    await expectAnswer('POST', '/allerac/v1/pairing/invitations', contract.PairingInvitation, {
      body: {},
      status: 201,
    });
    // Alice cannot join her own invitation; bob's, for the home she is already in, changes no key.
    const fromBob = await bob.node.mesh.invite();
    await expectAnswer('POST', '/allerac/v1/setup/join', contract.SetupJoined, {
      body: { code: fromBob.code },
    });
    await expectAnswer('POST', '/allerac/v1/setup/complete', contract.Ok, {
      body: { agentName: 'alice', specializations: ['home'], chatModel: CHAT_MODEL, language: 'en' },
    });
    await expectAnswer('GET', '/allerac/v1/settings', contract.NodeSettings);

    const login = await fetch(`${alice.node.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ana', password: 'correct horse battery' }),
    });
    expect(login.status).toBe(200);
    expectConforms('POST /auth/login', contract.SignedIn, await login.json());
  });

  it('should answer the chat page in the contract', async () => {
    await expectAnswer('GET', '/api/tags', contract.ModelTags);
    const me = await expectAnswer('GET', '/allerac/v1/me', contract.Me);
    expect(me.chatModel).toBe(CHAT_MODEL);
    const chat = await call('POST', '/api/chat', {
      model: CHAT_MODEL,
      messages: [{ role: 'user', content: 'When was the dishwasher filter changed?' }],
      stream: true,
    });
    expect(chat.status).toBe(200);
    const lines = (await chat.text()).split('\n').filter((line) => line.trim() !== '');
    for (const line of lines) expectConforms('POST /api/chat chunk', contract.ChatChunk, JSON.parse(line));
    const final = JSON.parse(lines.at(-1)!) as contract.ChatChunk;
    expect(final.allerac?.node).toBe('alice');
    const list = await expectAnswer('GET', '/allerac/v1/conversations?limit=50', contract.ConversationList);
    const id = chat.headers.get('x-allerac-conversation') ?? list.conversations[0]!.id;
    await waitFor(
      async () => (await call('GET', `/allerac/v1/conversations/${id}/messages`)).status === 200,
      10_000,
      'the conversation stored',
    );
    await expectAnswer('GET', `/allerac/v1/conversations/${id}/messages`, contract.ConversationMessages);
  });

  it('should answer the agents page, with a peer, in the contract', async () => {
    await expectAnswer('GET', '/health', contract.Health);
    const node = await expectAnswer('GET', '/allerac/v1/node', contract.NodeInfo);
    expect(node.load?.slots).toBeGreaterThan(0);
    const peers = await expectAnswer('GET', '/allerac/v1/peers', contract.PeerList);
    expect(peers.map((peer) => peer.name)).toContain('bob');
    await expectAnswer('GET', `/allerac/v1/route?model=${CHAT_MODEL}`, contract.RouteRanking);
  });

  it('should stream the live events of the agents page and the dashboard in the contract', async () => {
    const events = await call('GET', '/allerac/v1/events');
    expect(events.status).toBe(200);
    const wanted = Object.keys(contract.LIVE_EVENT_SCHEMAS) as Array<
      keyof typeof contract.LIVE_EVENT_SCHEMAS
    >;
    const seen = await readEvents(events, (list) =>
      wanted.every((name) => list.some((e) => e.event === name)),
    );
    for (const name of wanted) {
      const received = seen.filter((e) => e.event === name);
      expect({ [name]: received.length > 0 }).toEqual({ [name]: true });
      for (const { data } of received)
        expectConforms(`event ${name}`, contract.LIVE_EVENT_SCHEMAS[name], data);
    }
  });

  it('should answer the memories page in the contract', async () => {
    const space = await expectAnswer('POST', '/allerac/v1/spaces', contract.SpaceView, {
      body: { name: 'household', peers: 'all' },
      status: 201,
    });
    expect(space.name).toBe('household');
    const added = await expectAnswer('POST', '/allerac/v1/memories', contract.MemoryView, {
      body: { text: 'the dishwasher filter was changed in March', tags: ['kitchen'] },
      status: 201,
    });
    await expectAnswer('GET', '/allerac/v1/memories?limit=50', contract.MemoryPage);
    await expectAnswer('GET', '/allerac/v1/spaces', contract.SpaceList);
    await expectAnswer('POST', '/allerac/v1/memories/search', contract.SearchResults, {
      body: { query: 'dishwasher', k: 20 },
    });
    await expectAnswer('PATCH', `/allerac/v1/memories/${added.id}`, contract.MemoryView, {
      body: { text: 'the dishwasher filter was changed in April' },
    });
    await expectAnswer('POST', `/allerac/v1/memories/${added.id}/share`, contract.MemoryView, {
      body: { space: 'household' },
    });
    await expectAnswer('POST', `/allerac/v1/memories/${added.id}/unshare`, contract.MemoryView, { body: {} });
    await expectAnswer('GET', '/allerac/v1/memory/settings', contract.MemorySettings);
    await expectAnswer('POST', '/allerac/v1/spaces/household/purge-history', contract.SpaceView, {
      body: {},
    });
    await expectAnswer('POST', '/allerac/v1/spaces/household/leave', contract.SpaceLeft, { body: {} });
  });

  it('should answer the dashboard in the contract', async () => {
    const dashboard = await expectAnswer('GET', '/allerac/v1/dashboard', contract.Dashboard);
    expect(dashboard.hardware?.cpuModel).toBeTypeOf('string');
    await expectAnswer('GET', '/allerac/v1/system/history', contract.SystemHistory);
    await expectAnswer('GET', '/allerac/v1/backups/status', contract.BackupStatus);
    await expectAnswer('POST', '/allerac/v1/backups', contract.BackupInfo, { body: {}, status: 201 });
    await expectAnswer('GET', '/allerac/v1/backups', contract.BackupList);
    await expectAnswer('GET', '/allerac/v1/update/status', contract.UpdateStatus);
    await expectAnswer('GET', '/allerac/v1/backend', contract.BackendHealth);
    const removed = await call('DELETE', `/allerac/v1/models/${encodeURIComponent(PULLED_MODEL)}`);
    expect(removed.status).toBe(204);
  });

  it('should answer the settings page in the contract', async () => {
    await expectAnswer('PATCH', '/allerac/v1/me', contract.Ok, { body: { language: 'pt' } });
    await expectAnswer('GET', '/allerac/v1/tokens', contract.TokenList);
    await expectAnswer('POST', '/allerac/v1/tokens', contract.IssuedToken, {
      body: { name: 'laptop', role: 'member', expiresIn: '30d' },
      status: 201,
    });
    await expectAnswer('GET', '/allerac/v1/tokens', contract.TokenList);
    await expectAnswer('POST', '/allerac/v1/users', contract.UserCreated, {
      body: { username: 'rui', password: 'another good password', role: 'member' },
      status: 201,
    });
    await expectAnswer('GET', '/allerac/v1/users', contract.UserList);
  });
});
