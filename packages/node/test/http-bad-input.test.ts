import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

const MODEL = 'llama3.2:3b';
const EMBEDDER = 'all-minilm:latest';
const NUL = '\u0000';

/** Issue #11's regressions: each of these answered 500 (or took the AI offline) before. */
describe('http: a bad input is the client\'s 4xx, never a 500 or an "unreachable" backend', () => {
  let t: TestNode;
  let admin: Record<string, string>;

  beforeAll(async () => {
    t = await startTestNode({ sim: { profile: 'fast', models: [MODEL, EMBEDDER] } });
    admin = { authorization: `Bearer ${issueAdminToken(t.dataDir)}` };
  });
  afterAll(async () => {
    await t?.teardown();
  });

  const send = (method: string, url: string, body?: unknown) =>
    t.node.http.inject({
      method: method as 'GET',
      url,
      headers: body === undefined ? admin : { ...admin, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });

  it('should answer a chat with `images: 5` with 400, keep the backend up, and serve the next chat at once', async () => {
    const health: string[] = [];
    const unsubscribe = t.node.backend.onHealthChange((h) => health.push(h.state));
    try {
      const bad = await send('POST', '/api/chat', {
        model: MODEL,
        messages: [{ role: 'user', content: 'hi', images: 5 }],
        stream: false,
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toBe('messages[0].images must be an array');
      const good = await send('POST', '/api/chat', {
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        stream: false,
      });
      expect(good.statusCode).toBe(200);
      expect(good.json().done).toBe(true);
      expect(t.node.backend.health().state).toBe('up');
      expect(health).toEqual([]);
    } finally {
      unsubscribe();
    }
  });

  it.each([
    [
      '/api/chat',
      { model: MODEL, messages: [{ role: 'user', content: 'hi', images: ['not base64!'] }] },
      /images\[0\] must be a base64/,
    ],
    ['/api/generate', { model: MODEL, prompt: 'hi', images: [{}] }, /images\[0\] must be a base64/],
    [
      '/api/chat',
      { model: MODEL, messages: [], options: { temperature: 'hot' } },
      /options.temperature must be a number/,
    ],
    ['/api/chat', { model: MODEL, messages: [], think: 'very' }, /think must be true, false/],
    ['/api/embed', { model: EMBEDDER, input: 'x', dimensions: 1.5 }, /dimensions must be an integer/],
    ['/api/show', { model: 5 }, /model must be a string/],
  ])('should answer %s %j with an Ollama-shaped 400 naming the field', async (path, body, message) => {
    const response = await send('POST', path, body);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(message);
  });

  it('should answer a wrong type on /v1 in the OpenAI shape, with the field as its param', async () => {
    const response = await send('POST', '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: [{ type: 'text', text: 5 }] }],
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({
      message: 'messages[0].content[0].text must be a string without NUL (\\u0000) characters',
      type: 'invalid_request_error',
    });
  });

  it('should pass OpenAI tool calls on with their JSON arguments, and refuse arguments that are not JSON', async () => {
    const call = (args: string) => ({
      model: MODEL,
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'weather', arguments: args } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      ],
    });
    expect((await send('POST', '/v1/chat/completions', call('{"city":"Lisbon"}'))).statusCode).toBe(200);
    const bad = await send('POST', '/v1/chat/completions', call('not json'));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/invalid tool call arguments/);
  });

  it('should refuse a chat holding NUL with 400, in both APIs, and record nothing', async () => {
    const before = (await t.node.store.conversations.list(1000, 0)).length;
    const ollama = await send('POST', '/api/chat', {
      model: MODEL,
      messages: [{ role: 'user', content: `hi${NUL}there` }],
      stream: false,
    });
    expect(ollama.statusCode).toBe(400);
    expect(ollama.json().error).toMatch(/messages\[0\]\.content must be a string without NUL/);
    const openai = await send('POST', '/v1/chat/completions', {
      model: MODEL,
      messages: [{ role: 'user', content: `hi${NUL}` }],
    });
    expect(openai.statusCode).toBe(400);
    expect(openai.json().error.message).toMatch(/without NUL/);
    const generate = await send('POST', '/api/generate', { model: MODEL, prompt: `a${NUL}` });
    expect(generate.statusCode).toBe(400);
    expect((await t.node.store.conversations.list(1000, 0)).length).toBe(before);
  });

  it('should refuse JSON nested deeper than the limit on /api/show with 400', async () => {
    const deep = `{"model":"${MODEL}","options":{"x":${'['.repeat(5_000)}${']'.repeat(5_000)}}}`;
    const response = await send('POST', '/api/show', deep);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatch(/nests deeper than/);
  });

  it.each([
    ['POST', '/allerac/v1/memories', { text: `a${NUL}b` }],
    ['POST', '/allerac/v1/memories', { text: 'ab', tags: [`x${NUL}`] }],
    ['POST', '/allerac/v1/memories/search', { query: `a${NUL}b` }],
    ['POST', '/allerac/v1/memories/search', { query: 'ab', author: `a${NUL}` }],
    ['GET', '/allerac/v1/memories/a%00b', undefined],
    ['GET', '/allerac/v1/memories?tag=a%00', undefined],
    [
      'POST',
      '/allerac/v1/users',
      { username: `a${NUL}b`, password: 'correct horse battery', role: 'member' },
    ],
    ['POST', '/allerac/v1/tokens', { name: `a${NUL}b`, role: 'member' }],
    ['POST', '/auth/login', { username: `a${NUL}b`, password: 'correct horse battery' }],
  ])('should answer a NUL byte in %s %s with a 4xx', async (method, url, body) => {
    const response = await send(method, url, body);
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
    expect(typeof response.json().error).toBe('string');
  });

  it.each([
    '/allerac/v1/memories?since=99999-01-01',
    '/allerac/v1/memories?until=-000001-01-01',
    '/allerac/v1/memories?limit=-1e400',
    '/allerac/v1/memories?limit=1&limit=2',
    '/allerac/v1/memories?since=2020-01-01&since=2021-01-01',
    '/allerac/v1/conversations?limit=-1e400',
    '/allerac/v1/conversations?offset=1e400',
    '/allerac/v1/conversations?limit=1&limit=2',
    '/allerac/v1/route?model=a&model=b',
    '/allerac/v1/backups?dir=a&dir=b',
    '/allerac/v1/route?model=llama3.2:3b&policy=auto&policy=auto',
    '/allerac/v1/route?model=llama3.2:3b&promptTokens=-1',
    '/allerac/v1/route?model=llama3.2:3b&promptTokens=1e400',
    '/allerac/v1/route?model=llama3.2:3b&maxTokens=ten',
    '/allerac/v1/route?model=llama3.2:3b&numCtx=9999999999',
  ])('should answer GET %s with 400', async (url) => {
    const response = await send('GET', url);
    expect(response.statusCode).toBe(400);
    expect(typeof response.json().error).toBe('string');
  });

  it('should list no backups in a path that is a file, rather than fail', async () => {
    // Inside the backups directory, which a node may always list.
    const backups = join(t.dataDir, 'backups');
    mkdirSync(backups, { recursive: true });
    const file = join(backups, 'not-a-directory');
    writeFileSync(file, 'x');
    const response = await send('GET', `/allerac/v1/backups?dir=${encodeURIComponent(file)}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ backups: [] });
  });

  it("should answer a search with dates outside the store's range with 400", async () => {
    const response = await send('POST', '/allerac/v1/memories/search', { query: 'x', since: '99999-01-01' });
    expect(response.statusCode).toBe(400);
  });

  it('should answer DELETE /allerac/v1/models/%25zz (a name with a percent sign) with a 4xx', async () => {
    const response = await send('DELETE', '/allerac/v1/models/%25zz');
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(response.statusCode).toBeLessThan(500);
  });

  // The API's own error shape for these needs `frameworkErrors: frameworkErrorHandler` in
  // server.ts (validation-errors.test.ts checks that handler on its own).
  it.each(['/api/%zz', '/v1/models/%zz'])(
    'should answer GET %s (a percent sign that escapes nothing) with 400',
    async (url) => {
      const response = await send('GET', url);
      expect(response.statusCode).toBe(400);
    },
  );
});
