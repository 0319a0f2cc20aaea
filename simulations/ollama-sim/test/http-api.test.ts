import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedText, expectedAnswer, type OllamaSim, PROFILES, startOllamaSim } from '../src/index.js';
import { cosine, post, readNdjson, waitFor } from './helpers.js';

describe('HTTP API details', () => {
  let sim: OllamaSim;

  beforeAll(async () => {
    sim = await startOllamaSim({ profile: 'fast' });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('should answer GET and HEAD / like Ollama', async () => {
    const get = await fetch(`${sim.url}/`);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('Ollama is running');
    const head = await fetch(`${sim.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('should answer 404 with Ollama text for an unknown model', async () => {
    // ChatHandler and GenerateHandler answer `model '%s' not found`; the embed handlers go through
    // handleScheduleError (server/routes.go).
    const response = await post(`${sim.url}/api/chat`, {
      model: 'x',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/application\/json/);
    expect(await response.json()).toEqual({ error: "model 'x' not found" });
    const generate = await post(`${sim.url}/api/generate`, { model: 'x', prompt: 'hi' });
    expect(generate.status).toBe(404);
    expect(await generate.json()).toEqual({ error: "model 'x' not found" });
    const embed = await post(`${sim.url}/api/embed`, { model: 'x', input: 'hi' });
    expect(embed.status).toBe(404);
    expect(await embed.json()).toEqual({ error: 'model "x" not found, try pulling it first' });
  });

  it('should answer 400 for malformed JSON, a missing body and a missing model', async () => {
    const malformed = await post(`${sim.url}/api/chat`, '{"model": ');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: 'unexpected EOF' });
    const garbage = await post(`${sim.url}/api/chat`, 'hello');
    expect(await garbage.json()).toEqual({ error: "invalid character 'h' looking for beginning of value" });
    const empty = await post(`${sim.url}/api/generate`, '');
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({ error: 'missing request body' });
    const noModel = await post(`${sim.url}/api/chat`, { messages: [] });
    expect(noModel.status).toBe(400);
    expect(await noModel.json()).toEqual({ error: 'model is required' });
    const wrongType = await post(`${sim.url}/api/chat`, { model: 42 });
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { error: string }).error).toMatch(/cannot unmarshal number/);
  });

  it('should embed with a chat model, as Ollama asks no capability, and refuse chat from an embedding model', async () => {
    // EmbedHandler calls scheduleRunner with no capabilities; the vectors are embedding_length long.
    const embed = await post(`${sim.url}/api/embed`, { model: 'llama3.2:3b', input: 'x' });
    expect(embed.status).toBe(200);
    const { embeddings } = (await embed.json()) as { embeddings: number[][] };
    expect(embeddings[0]).toHaveLength(3072);
    const chat = await post(`${sim.url}/api/chat`, {
      model: 'all-minilm',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(chat.status).toBe(400);
    expect(await chat.json()).toEqual({ error: '"all-minilm" does not support chat' });
  });

  it('should answer 404 text for unknown routes and 405 for wrong methods', async () => {
    const missing = await fetch(`${sim.url}/api/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('404 page not found');
    const wrong = await fetch(`${sim.url}/api/chat`);
    expect(wrong.status).toBe(405);
  });

  it('should stream NDJSON by default with application/x-ndjson', async () => {
    const response = await post(`${sim.url}/api/generate`, { model: 'llama3.2:3b', prompt: 'hi' });
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const lines = await readNdjson(response);
    const last = lines.at(-1)!;
    expect(last.done).toBe(true);
    for (const key of ['total_duration', 'load_duration', 'prompt_eval_duration', 'eval_duration']) {
      expect(Number.isInteger(last[key])).toBe(true);
    }
    expect(lines.slice(0, -1).every((l) => l.done === false && typeof l.response === 'string')).toBe(true);
  });

  it('should load with empty messages and unload with keep_alive 0', async () => {
    const load = await post(`${sim.url}/api/chat`, { model: 'llama3.2:3b', messages: [] });
    expect(((await load.json()) as { done_reason: string }).done_reason).toBe('load');
    const ps = async () =>
      ((await (await fetch(`${sim.url}/api/ps`)).json()) as { models: Array<{ name: string }> }).models.map(
        (m) => m.name,
      );
    expect(await ps()).toContain('llama3.2:3b');
    const unload = await post(`${sim.url}/api/chat`, { model: 'llama3.2:3b', messages: [], keep_alive: 0 });
    expect(((await unload.json()) as { done_reason: string }).done_reason).toBe('unload');
    expect(await ps()).not.toContain('llama3.2:3b');
    // keep_alive 0 with a prompt: answer, then unload.
    const reply = await post(`${sim.url}/api/generate`, {
      model: 'llama3.2:3b',
      prompt: 'hi',
      stream: false,
      keep_alive: '0s',
    });
    expect(reply.status).toBe(200);
    expect(await ps()).not.toContain('llama3.2:3b');
    const kept = await post(`${sim.url}/api/generate`, {
      model: 'llama3.2:3b',
      prompt: 'hi',
      stream: false,
      keep_alive: '1h',
    });
    expect(kept.status).toBe(200);
    expect(await ps()).toContain('llama3.2:3b');
  });

  it('should continue an interrupted answer so both parts make the full answer', async () => {
    const messages = [{ role: 'user', content: 'Explain failover in one paragraph.' }];
    const full = expectedAnswer('llama3.2:3b', messages, 50);
    const controller = new AbortController();
    const response = await post(
      `${sim.url}/api/chat`,
      { model: 'llama3.2:3b', messages, options: { num_predict: 50 } },
      { signal: controller.signal },
    );
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    const received: string[] = [];
    while (received.length < 17) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        const chunk = JSON.parse(line) as { done: boolean; message: { content: string } };
        if (!chunk.done && received.length < 17) received.push(chunk.message.content);
      }
    }
    controller.abort();
    const partial = received.join('');
    expect(full.startsWith(partial)).toBe(true);
    const rest = await post(`${sim.url}/api/chat`, {
      model: 'llama3.2:3b',
      messages: [...messages, { role: 'assistant', content: partial }],
      options: { num_predict: 50 },
      stream: false,
    });
    const body = (await rest.json()) as { message: { content: string }; eval_count: number };
    expect(partial + body.message.content).toBe(full);
    expect(body.eval_count).toBe(50 - 17);
  });

  it('should continue from a prefix cut mid-word', async () => {
    const messages = [{ role: 'user', content: 'mid word' }];
    const full = expectedAnswer('llama3.2:3b', messages);
    const cut = full.slice(0, 11);
    const rest = await post(`${sim.url}/api/chat`, {
      model: 'llama3.2:3b',
      messages: [...messages, { role: 'assistant', content: cut }],
      stream: false,
    });
    expect(cut + ((await rest.json()) as { message: { content: string } }).message.content).toBe(full);
  });

  it('should make texts that share words similar and unrelated texts orthogonal', async () => {
    const response = await post(`${sim.url}/api/embed`, {
      model: 'all-minilm',
      input: ['the cat sat on the mat', 'the cat sat on the red mat', 'quantum chromodynamics lectures'],
    });
    const { embeddings } = (await response.json()) as { embeddings: number[][] };
    const [a, b, c] = embeddings as [number[], number[], number[]];
    expect(cosine(a, b)).toBeGreaterThan(0.8);
    expect(Math.abs(cosine(a, c))).toBeLessThan(0.2);
    expect(Math.hypot(...a)).toBeCloseTo(1, 6);
    expect(a).toEqual(embedText('the cat sat on the mat', 384));
  });

  it('should reject with 503 when the queue is full and count it', async () => {
    const busy = await startOllamaSim({
      profile: {
        ...PROFILES.cpu!,
        tokensPerSecond: 5,
        ttftMs: 10,
        parallelSlots: 1,
        queueLimit: 1,
        loadMsPerGB: 0,
      },
    });
    const controllers = [new AbortController(), new AbortController()];
    try {
      const body = { model: 'llama3.2:3b', messages: [{ role: 'user', content: 'slow' }] };
      const first = post(`${busy.url}/api/chat`, body, { signal: controllers[0]!.signal }).catch(
        () => undefined,
      );
      await waitFor(() => busy.stats().active === 1);
      const second = post(`${busy.url}/api/chat`, body, { signal: controllers[1]!.signal }).catch(
        () => undefined,
      );
      await waitFor(() => busy.stats().queued === 1);
      const third = await post(`${busy.url}/api/chat`, body);
      expect(third.status).toBe(503);
      expect(await third.json()).toEqual({
        error: 'server busy, please try again.  maximum pending requests exceeded',
      });
      expect(busy.stats().rejected).toBe(1);
      for (const controller of controllers) controller.abort();
      await Promise.all([first, second]);
      await waitFor(() => busy.stats().cancelled === 2 && busy.stats().active === 0);
      expect(busy.stats().queued).toBe(0);
    } finally {
      await busy.close();
    }
  });

  it('should expose and reset stats over /_sim', async () => {
    const stats = (await (await fetch(`${sim.url}/_sim/stats`)).json()) as Record<string, number>;
    expect(stats.requests).toBeGreaterThan(0);
    expect(stats.completed).toBeGreaterThan(0);
    for (const key of ['active', 'queued', 'cancelled', 'rejected', 'tokens'])
      expect(typeof stats[key]).toBe('number');
    await post(`${sim.url}/_sim/reset`, {});
    expect(sim.stats()).toMatchObject({ requests: 0, completed: 0, tokens: 0 });
  });
});
