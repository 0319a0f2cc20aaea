import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

const MODEL = 'llama3.2:3b';
// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON; the assertions check them
type Json = any;

describe('memory api', () => {
  let t: TestNode;
  let token: string;
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${t.node.url}/allerac/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as Json) };
  };

  beforeAll(async () => {
    t = await startTestNode({
      sim: { profile: 'fast', models: [MODEL, 'all-minilm:latest', 'nomic-embed-text:latest'] },
    });
    token = issueAdminToken(t.dataDir, 'test');
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('should need a token', async () => {
    const response = await fetch(`${t.node.url}/allerac/v1/memories`);
    expect(response.status).toBe(401);
  });

  it('should add, list, get, update, search and delete private memories', async () => {
    const a = await api('POST', '/memories', {
      text: 'the dishwasher filter was changed in March',
      tags: ['kitchen'],
    });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({
      text: 'the dishwasher filter was changed in March',
      tags: ['kitchen'],
      space: null,
      author: 'alice',
    });
    await api('POST', '/memories', { text: 'the car needs new tyres before winter', tags: ['car'] });
    await api('POST', '/memories', { text: 'grandma birthday is on the 4th of June' });

    const list = await api('GET', '/memories?limit=2');
    expect(list.status).toBe(200);
    expect(list.body.memories).toHaveLength(2);
    expect(list.body.nextCursor).toEqual(expect.any(String));
    const rest = await api('GET', `/memories?limit=2&cursor=${list.body.nextCursor}`);
    expect(rest.body.memories).toHaveLength(1);
    expect(rest.body.nextCursor).toBeNull();
    expect((await api('GET', '/memories?tag=kitchen')).body.memories.map((m: Json) => m.id)).toEqual([
      a.body.id,
    ]);

    const search = await api('POST', '/memories/search', {
      query: 'when was the dishwasher filter changed',
      k: 2,
    });
    expect(search.status).toBe(200);
    expect(search.body.results[0]).toMatchObject({ id: a.body.id, space: null, author: 'alice' });
    expect(search.body.results[0].score).toBeGreaterThan(search.body.results[1]?.score ?? -1);
    const tagged = await api('POST', '/memories/search', { query: 'dishwasher', tags: ['car'] });
    expect(tagged.body.results.map((r: Json) => r.text)).toEqual(['the car needs new tyres before winter']);

    const patched = await api('PATCH', `/memories/${a.body.id}`, {
      text: 'the dishwasher filter was changed in April',
    });
    expect(patched.body.text).toBe('the dishwasher filter was changed in April');
    expect((await api('GET', `/memories/${a.body.id}`)).body.text).toBe(
      'the dishwasher filter was changed in April',
    );
    expect((await api('DELETE', `/memories/${a.body.id}`)).status).toBe(204);
    expect((await api('GET', `/memories/${a.body.id}`)).status).toBe(404);
    expect((await api('DELETE', `/memories/${a.body.id}`)).status).toBe(404);
  });

  it('should boost an exact text match', async () => {
    await api('POST', '/memories', { text: 'wifi password: correct-horse-battery' });
    const search = await api('POST', '/memories/search', { query: 'correct-horse-battery' });
    expect(search.body.results[0].text).toBe('wifi password: correct-horse-battery');
    expect(search.body.results[0].score).toBeGreaterThan(1);
  });

  it('should refuse bad input with clear errors', async () => {
    expect((await api('POST', '/memories', { text: '' })).status).toBe(400);
    expect((await api('POST', '/memories', { text: '   ' })).status).toBe(400);
    const big = await api('POST', '/memories', { text: 'x'.repeat(8 * 1024 + 1) });
    expect(big.status).toBe(413);
    expect(big.body.error).toMatch(/8192/);
    const unknown = await api('POST', '/memories', { text: 'hello', space: 'nowhere' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/unknown space/);
    expect((await api('GET', '/memories?cursor=garbage')).status).toBe(400);
    expect((await api('POST', '/memories/search', { query: '' })).status).toBe(400);
    expect((await api('POST', '/spaces', { name: '../x', peers: 'all' })).status).toBe(400);
    expect((await api('POST', '/spaces', { name: 'ok', peers: 'some' })).status).toBe(400);
    expect((await api('POST', '/spaces/nowhere/leave')).status).toBe(404);
  });

  it('should create spaces, share, unshare, purge and leave', async () => {
    expect((await api('POST', '/spaces', { name: 'household', peers: 'all' })).status).toBe(201);
    expect((await api('POST', '/spaces', { name: 'household', peers: 'all' })).status).toBe(409);
    const m = await api('POST', '/memories', { text: 'bins go out on Tuesday' });
    const shared = await api('POST', `/memories/${m.body.id}/share`, { space: 'household' });
    expect(shared.body.space).toBe('household');
    expect((await api('GET', '/spaces')).body.spaces).toEqual([
      { name: 'household', epoch: 0, policy: { peers: 'all' }, memories: 1 },
    ]);
    expect((await api('GET', '/memories?space=household')).body.memories.map((x: Json) => x.id)).toEqual([
      m.body.id,
    ]);
    const unshared = await api('POST', `/memories/${m.body.id}/unshare`);
    expect(unshared.body.space).toBeNull();
    expect((await api('GET', '/spaces')).body.spaces[0].memories).toBe(0);
    const purged = await api('POST', '/spaces/household/purge-history');
    expect(purged.body.epoch).toBe(1);
    const direct = await api('POST', '/memories', { text: 'shared at once', space: 'household' });
    expect(direct.body.space).toBe('household');
    expect((await api('POST', '/spaces/household/leave')).status).toBe(200);
    expect((await api('GET', '/spaces')).body.spaces).toEqual([]);
    // Our own memory of the space stays, as private.
    expect((await api('GET', `/memories/${direct.body.id}`)).body.space).toBeNull();
  });

  it('should add relevant memories to a chat, list them, and honour the opt-outs', async () => {
    const m = await api('POST', '/memories', { text: 'the spare house key is in the blue flower pot' });
    const ollama = new Ollama({ host: t.node.url });
    const messages = [{ role: 'user', content: 'where is the spare house key?' }];
    let final: Json;
    for await (const chunk of await ollama.chat({ model: MODEL, messages, stream: true }))
      if (chunk.done) final = chunk;
    expect(final.allerac.node).toBe('alice');
    expect(final.allerac.memories.map((x: Json) => x.id)).toContain(m.body.id);

    const off = await ollama.chat({
      model: MODEL,
      messages,
      stream: false,
      allerac: { memories: false },
    } as Json);
    expect((off as Json).allerac.memories).toBeUndefined();
    const openai = new OpenAI({ baseURL: `${t.node.url}/v1`, apiKey: 'x' });
    const viaOpenAi = await openai.chat.completions.create({ model: MODEL, messages: messages as Json });
    expect((viaOpenAi as Json).allerac.memories.map((x: Json) => x.id)).toContain(m.body.id);
    const headerOff = await fetch(`${t.node.url}/api/chat`, {
      method: 'POST',
      headers: { 'x-allerac-memories': 'off' },
      body: JSON.stringify({ model: MODEL, messages, stream: false }),
    });
    expect(((await headerOff.json()) as Json).allerac.memories).toBeUndefined();

    await api('PATCH', '/memory/settings', { chat: { enabled: false } });
    const disabled = (await ollama.chat({ model: MODEL, messages, stream: false })) as Json;
    expect(disabled.allerac.memories).toBeUndefined();
    await api('PATCH', '/memory/settings', { chat: { enabled: true } });
  });

  it('should add a memory from a "remember ..." chat message', async () => {
    const ollama = new Ollama({ host: t.node.url });
    const answer = (await ollama.chat({
      model: MODEL,
      messages: [{ role: 'user', content: 'Remember that the boiler was serviced in October.' }],
      stream: false,
    })) as Json;
    expect(answer.allerac.remembered.text).toBe('the boiler was serviced in October');
    const found = await api('POST', '/memories/search', { query: 'boiler serviced', k: 1 });
    expect(found.body.results[0].text).toBe('the boiler was serviced in October');
    expect((await api('GET', `/memories/${found.body.results[0].id}`)).body.source).toBe('chat');
  });

  it('should re-embed with a new model in the background and keep search working', async () => {
    const before = await api('POST', '/memories/search', { query: 'spare house key', k: 1 });
    expect(before.body.results[0].text).toBe('the spare house key is in the blue flower pot');
    const changed = await api('PATCH', '/memory/settings', { embeddingModel: 'nomic-embed-text:latest' });
    expect(changed.body.embedding.model).toBe('nomic-embed-text:latest');
    const during = await api('POST', '/memories/search', { query: 'spare house key', k: 1 });
    expect(during.body.results[0].text).toBe('the spare house key is in the blue flower pot');
    await t.node.memory.embeddingIdle();
    const status = await api('GET', '/memory/settings');
    expect(status.body.embedding.active).toBe('nomic-embed-text:latest');
    expect(Object.keys(status.body.embedding.counts)).toEqual(['nomic-embed-text:latest']);
    const after = await api('POST', '/memories/search', { query: 'spare house key', k: 1 });
    expect(after.body.results[0].text).toBe('the spare house key is in the blue flower pot');
  });
});
