import { expectedAnswer } from '@allerac/ollama-sim';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const MODEL = 'llama3.2:3b';
const question = [{ role: 'user', content: 'When was the dishwasher filter changed?' }];

describe('http api: end to end with the official clients', () => {
  let t: TestNode;
  let ollama: Ollama;
  let openai: OpenAI;

  beforeAll(async () => {
    t = await startTestNode({ sim: { profile: 'fast', models: [MODEL, 'all-minilm:latest'] } });
    ollama = new Ollama({ host: t.node.url });
    openai = new OpenAI({ baseURL: `${t.node.url}/v1`, apiKey: 'unused-on-loopback' });
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('should list the backend models through the ollama client', async () => {
    const { models } = await ollama.list();
    expect(models.map((m) => m.name)).toEqual(expect.arrayContaining([MODEL, 'all-minilm:latest']));
    expect((await ollama.version()).version).toMatch(/^\d+\.\d+\.\d+/);
    expect((await ollama.show({ model: MODEL })).details.family).toBe('llama');
  });

  it('should stream a chat through the ollama client and say who served it', async () => {
    const stream = await ollama.chat({ model: MODEL, messages: question, stream: true });
    let text = '';
    let final: Record<string, unknown> | undefined;
    for await (const chunk of stream) {
      text += chunk.message.content;
      if (chunk.done) final = chunk as unknown as Record<string, unknown>;
    }
    expect(text).toBe(expectedAnswer(MODEL, question));
    expect(final?.allerac).toMatchObject({
      node: 'alice',
      failovers: 0,
      memory: { scope: 'private+shared' },
    });
    expect(final?.eval_count).toBeGreaterThan(0);
  });

  it('should answer a non-streaming chat and generate in one object', async () => {
    const chat = await ollama.chat({ model: MODEL, messages: question, stream: false });
    expect(chat.message.content).toBe(expectedAnswer(MODEL, question));
    expect(chat.done).toBe(true);
    const generated = await ollama.generate({ model: MODEL, prompt: 'Say hello', stream: false });
    expect(generated.response?.length).toBeGreaterThan(0);
    expect(generated.done).toBe(true);
  });

  it('should embed through /api/embed and the legacy /api/embeddings', async () => {
    const { embeddings } = await ollama.embed({ model: 'all-minilm:latest', input: ['a cat', 'a dog'] });
    expect(embeddings).toHaveLength(2);
    expect(embeddings[0]).toHaveLength(384);
    const legacy = await ollama.embeddings({ model: 'all-minilm:latest', prompt: 'a cat' });
    expect(legacy.embedding).toEqual(embeddings[0]);
  });

  it('should serve the openai client, streaming and not', async () => {
    const models = await openai.models.list();
    expect(models.data.map((m) => m.id)).toContain(MODEL);

    const completion = await openai.chat.completions.create({ model: MODEL, messages: question as never });
    expect(completion.choices[0]?.message.content).toBe(expectedAnswer(MODEL, question));
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.completion_tokens).toBeGreaterThan(0);

    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages: question as never,
      stream: true,
    });
    let text = '';
    let last: unknown;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      last = chunk;
    }
    expect(text).toBe(expectedAnswer(MODEL, question));
    expect((last as { allerac?: unknown }).allerac).toMatchObject({ node: 'alice', failovers: 0 });

    const embedded = await openai.embeddings.create({ model: 'all-minilm:latest', input: 'a cat' });
    expect(embedded.data[0]?.embedding).toHaveLength(384);
  });

  it('should name the serving node in a header and keep every chat in the store', async () => {
    const response = await fetch(`${t.node.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: 'user', content: 'remember the header test' }],
        stream: false,
      }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-allerac-node')).toBe('alice');
    const conversationId = response.headers.get('x-allerac-conversation')!;
    await waitFor(async () => (await t.node.store.conversations.messages(conversationId)).length === 2);
    const stored = await t.node.store.conversations.messages(conversationId);
    expect(stored.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
    expect(stored[1]?.node).toBe('alice');
  });

  it('should expose Prometheus metrics', async () => {
    const text = await (await fetch(`${t.node.url}/metrics`)).text();
    expect(text).toContain('allerac_http_requests_total');
    expect(text).toMatch(/allerac_tokens_total\{[^}]*model="llama3.2:3b"/);
    expect(text).toContain('allerac_backend_up 1');
  });
});

describe('http api: bad input', () => {
  let t: TestNode;
  const post = (path: string, body: string) => fetch(`${t.node.url}${path}`, { method: 'POST', body });

  beforeAll(async () => {
    t = await startTestNode({ sim: { profile: 'fast', models: [MODEL] } });
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it.each([
    ['/api/chat', '{not json', 400, /invalid JSON/],
    ['/api/chat', '[1,2]', 400, /JSON object/],
    ['/api/chat', '{"messages":[]}', 400, /model is required/],
    ['/api/chat', '{"model":7}', 400, /model must be a string/],
    ['/api/chat', '{"model":"llama3.2:3b","messages":"hi"}', 400, /messages must be an array/],
    ['/api/chat', '{"model":"llama3.2:3b","messages":[{"content":"x"}]}', 400, /role must be a string/],
    ['/api/generate', '{"model":"llama3.2:3b","prompt":5}', 400, /prompt must be a string/],
    ['/api/embed', '{"model":"all-minilm:latest","input":[1]}', 400, /input must be/],
    ['/api/chat', '{"model":"no-such-model","messages":[]}', 404, /not found/],
  ])('should answer %s %s with an Ollama-shaped %i', async (path, body, status, message) => {
    const response = await post(path, body);
    expect(response.status).toBe(status);
    const json = (await response.json()) as { error: string };
    expect(typeof json.error).toBe('string');
    expect(json.error).toMatch(message);
  });

  it.each([
    ['/v1/chat/completions', '{oops', 400, /invalid JSON/],
    ['/v1/chat/completions', '{"model":"llama3.2:3b","messages":[]}', 400, /non-empty/],
    [
      '/v1/chat/completions',
      '{"model":"llama3.2:3b","messages":[{"role":"user","content":"x"}],"max_tokens":"ten"}',
      400,
      /max_tokens/,
    ],
    ['/v1/chat/completions', '{"model":"nope","messages":[{"role":"user","content":"x"}]}', 404, /not found/],
    ['/v1/embeddings', '{"model":"all-minilm:latest"}', 400, /input/],
  ])('should answer %s %s with an OpenAI-shaped %i', async (path, body, status, message) => {
    const response = await post(path, body);
    expect(response.status).toBe(status);
    const json = (await response.json()) as { error: { message: string; type: string } };
    expect(json.error.message).toMatch(message);
    expect(typeof json.error.type).toBe('string');
  });

  it('should refuse an oversized body with 413', async () => {
    const huge = JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'x'.repeat(33 * 1024 * 1024) }],
    });
    const response = await post('/api/chat', huge);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toMatch(/too large/);
  });

  it('should answer an unknown path with 404 in the right shape', async () => {
    expect((await fetch(`${t.node.url}/api/nope`)).status).toBe(404);
    const openaiShape = (await (await fetch(`${t.node.url}/v1/nope`)).json()) as {
      error: { message: string };
    };
    expect(openaiShape.error.message).toMatch(/not an endpoint/);
  });

  it('should abort the backend generation when the client disconnects mid-stream', async () => {
    await t.sim!.close();
    t.sim = undefined;
    const { startOllamaSim } = await import('@allerac/ollama-sim');
    const port = Number(new URL(t.node.backend.url).port);
    const slow = await startOllamaSim({
      port,
      profile: { ...(await import('@allerac/ollama-sim')).PROFILES.cpu!, tokensPerSecond: 20 },
      models: [MODEL],
    });
    t.sim = slow;
    await waitFor(() => t.node.backend.health().state === 'up', 15_000, 'backend up');
    const controller = new AbortController();
    const response = await fetch(`${t.node.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: MODEL, messages: question, options: { num_predict: 500 } }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await waitFor(() => slow.stats().cancelled === 1, 10_000, 'the backend generation to be cancelled');
    expect(slow.stats().active).toBe(0);
  });

  it('should end the stream with an error line when the backend dies mid-answer, and keep the partial answer', async () => {
    t.sim!.setFaults({ exitAfterTokens: 3 });
    const response = await post(
      '/api/chat',
      JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'die midway' }] }),
    );
    expect(response.status).toBe(200);
    const lines = (await response.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.at(-1)?.error).toMatch(/broke off|ended|before/);
    expect(lines.filter((line) => line.message !== undefined).length).toBeGreaterThanOrEqual(1);
    const conversationId = response.headers.get('x-allerac-conversation')!;
    await waitFor(async () => (await t.node.store.conversations.messages(conversationId)).length === 2);
    const [, answer] = await t.node.store.conversations.messages(conversationId);
    expect(answer?.status).toBe('partial');
  });

  it('should report the backend unreachable with 503 naming the URL, and reconnect when it returns', async () => {
    await waitFor(
      () => t.node.backend.health().state === 'unreachable',
      15_000,
      'backend marked unreachable',
    );
    const health = (await (await fetch(`${t.node.url}/health`)).json()) as {
      status: string;
      backend: { state: string };
    };
    expect(health).toMatchObject({ status: 'degraded', backend: { state: 'unreachable' } });
    const response = await post('/api/chat', JSON.stringify({ model: MODEL, messages: question }));
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: string }).error).toContain(t.node.backend.url);
    const openaiResponse = await post(
      '/v1/chat/completions',
      JSON.stringify({ model: MODEL, messages: question }),
    );
    expect(openaiResponse.status).toBe(503);

    const { startOllamaSim } = await import('@allerac/ollama-sim');
    t.sim = await startOllamaSim({
      port: Number(new URL(t.node.backend.url).port),
      profile: 'fast',
      models: [MODEL],
    });
    await waitFor(() => t.node.backend.health().state === 'up', 15_000, 'backend to come back');
    expect(
      (await post('/api/chat', JSON.stringify({ model: MODEL, messages: question, stream: false }))).status,
    ).toBe(200);
  });
});

describe('http api: authentication', () => {
  let t: TestNode;
  beforeAll(async () => {
    t = await startTestNode({ sim: { profile: 'fast', models: [MODEL] } });
  });
  afterAll(async () => {
    await t?.teardown();
  });

  const remote = (url: string, headers: Record<string, string> = {}) =>
    t.node.http.inject({ method: 'GET', url, headers, remoteAddress: '192.168.1.50' });

  it('should let loopback callers use /api and /v1 without a token', async () => {
    expect((await t.node.http.inject({ url: '/api/tags', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    expect((await t.node.http.inject({ url: '/v1/models', remoteAddress: '::1' })).statusCode).toBe(200);
  });

  it('should require a bearer token from other callers, in each API shape', async () => {
    const ollamaShape = await remote('/api/tags');
    expect(ollamaShape.statusCode).toBe(401);
    expect(ollamaShape.json().error).toMatch(/Bearer/);
    const openaiShape = await remote('/v1/models');
    expect(openaiShape.statusCode).toBe(401);
    expect(openaiShape.json().error.type).toBe('authentication_error');
    expect((await remote('/api/tags', { authorization: 'Bearer alr_wrong' })).statusCode).toBe(401);
  });

  it('should accept a token from `allerac token`, and always require one for /allerac/v1', async () => {
    const token = issueAdminToken(t.dataDir);
    expect((await remote('/api/tags', { authorization: `Bearer ${token}` })).statusCode).toBe(200);
    expect(
      (await t.node.http.inject({ url: '/allerac/v1/node', remoteAddress: '127.0.0.1' })).statusCode,
    ).toBe(401);
    const node = await t.node.http.inject({
      url: '/allerac/v1/node',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(node.statusCode).toBe(200);
    expect(node.json().name).toBe('alice');
    const peers = await t.node.http.inject({
      url: '/allerac/v1/peers',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(peers.json()).toEqual([]);
  });

  it('should leave /health open', async () => {
    const health = await remote('/health');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'ok', name: 'alice', backend: { state: 'up' } });
  });
});
