import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedAnswer, type OllamaSim, startOllamaSim } from '../src/index.js';

describe('official ollama client against the simulator', () => {
  let sim: OllamaSim;
  let ollama: Ollama;

  beforeAll(async () => {
    sim = await startOllamaSim({
      profile: 'fast',
      models: ['llama3.2:3b', 'llama3.1:8b', 'all-minilm:latest'],
      preload: ['llama3.2:3b'],
    });
    ollama = new Ollama({ host: sim.url });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('should list installed models with Ollama details', async () => {
    const { models } = await ollama.list();
    const names = models.map((m) => m.name).sort();
    expect(names).toEqual(['all-minilm:latest', 'llama3.1:8b', 'llama3.2:3b']);
    const llama = models.find((m) => m.name === 'llama3.1:8b')!;
    expect(llama.size).toBeGreaterThan(4.5e9);
    expect(llama.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(llama.details.parameter_size).toBe('8.0B');
    expect(llama.details.quantization_level).toBe('Q4_K_M');
    expect(llama.details.family).toBe('llama');
  });

  it('should show a model with its capabilities', async () => {
    const shown = await ollama.show({ model: 'all-minilm' });
    expect(shown.capabilities).toEqual(['embedding']);
    expect(shown.details.family).toBe('bert');
    expect((shown.model_info as unknown as Record<string, unknown>)['bert.embedding_length']).toBe(384);
  });

  it('should list the preloaded model in ps', async () => {
    const { models } = await ollama.ps();
    const loaded = models.find((m) => m.name === 'llama3.2:3b');
    expect(loaded).toBeDefined();
    expect(loaded!.size_vram).toBe(loaded!.size);
    expect(new Date(loaded!.expires_at).getTime()).toBeGreaterThan(Date.now());
  });

  it('should answer a non-streamed chat with the deterministic text and metrics', async () => {
    const messages = [{ role: 'user', content: 'Why is the sky blue?' }];
    const reply = await ollama.chat({ model: 'llama3.2:3b', messages, stream: false });
    expect(reply.message.role).toBe('assistant');
    expect(reply.message.content).toBe(expectedAnswer('llama3.2:3b', messages));
    expect(reply.done).toBe(true);
    expect(reply.done_reason).toBe('stop');
    expect(reply.eval_count).toBeGreaterThanOrEqual(20);
    expect(reply.prompt_eval_count).toBeGreaterThan(0);
    expect(reply.total_duration).toBeGreaterThan(0);
    expect(reply.eval_duration).toBeGreaterThan(0);
    expect(typeof reply.load_duration).toBe('number');
    expect(typeof reply.prompt_eval_duration).toBe('number');
  });

  it('should stream a chat one token per chunk', async () => {
    const messages = [{ role: 'user', content: 'Tell me a story' }];
    const stream = await ollama.chat({
      model: 'llama3.2:3b',
      messages,
      stream: true,
      options: { num_predict: 40 },
    });
    const pieces: string[] = [];
    let last: Awaited<ReturnType<typeof ollama.chat>> | undefined;
    for await (const part of stream) {
      if (!part.done) pieces.push(part.message.content);
      last = part;
    }
    expect(pieces).toHaveLength(40);
    expect(pieces.slice(1).every((p) => p.startsWith(' '))).toBe(true);
    expect(pieces.join('')).toBe(expectedAnswer('llama3.2:3b', messages, 40));
    expect(last?.done_reason).toBe('length');
    expect(last?.eval_count).toBe(40);
  });

  it('should generate from (system, prompt) deterministically', async () => {
    const reply = await ollama.generate({
      model: 'llama3.1:8b',
      prompt: 'hello',
      system: 'be brief',
      stream: false,
    });
    expect(reply.response).toBe(
      expectedAnswer('llama3.1:8b', [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello' },
      ]),
    );
    expect(Array.isArray(reply.context)).toBe(true);
    const streamed = await ollama.generate({
      model: 'llama3.1:8b',
      prompt: 'hello',
      system: 'be brief',
      stream: true,
    });
    let text = '';
    for await (const part of streamed) text += part.response;
    expect(text).toBe(reply.response);
  });

  it('should give different answers for different models and conversations', async () => {
    const messages = [{ role: 'user', content: 'same question' }];
    expect(expectedAnswer('llama3.2:3b', messages)).not.toBe(expectedAnswer('llama3.1:8b', messages));
    expect(expectedAnswer('llama3.2:3b', messages)).not.toBe(
      expectedAnswer('llama3.2:3b', [{ role: 'user', content: 'other question' }]),
    );
  });

  it('should embed strings and lists', async () => {
    const single = await ollama.embed({ model: 'all-minilm', input: 'the sky is blue' });
    expect(single.embeddings).toHaveLength(1);
    expect(single.embeddings[0]).toHaveLength(384);
    const many = await ollama.embed({ model: 'all-minilm', input: ['a b', 'c d', 'e f'] });
    expect(many.embeddings).toHaveLength(3);
    expect(many.prompt_eval_count).toBeGreaterThan(0);
    const legacy = await ollama.embeddings({ model: 'all-minilm', prompt: 'the sky is blue' });
    expect(legacy.embedding).toEqual(single.embeddings[0]);
  });

  it('should pull a catalog model with growing progress and then list it', async () => {
    const stream = await ollama.pull({ model: 'nomic-embed-text', stream: true });
    const statuses: string[] = [];
    const completed: number[] = [];
    for await (const part of stream) {
      statuses.push(part.status);
      if (part.digest && part.total > 1_000_000) completed.push(part.completed);
    }
    expect(statuses[0]).toBe('pulling manifest');
    expect(statuses).toContain('verifying sha256 digest');
    expect(statuses).toContain('writing manifest');
    expect(statuses.at(-1)).toBe('success');
    expect(statuses.some((s) => /^pulling [0-9a-f]{12}$/.test(s))).toBe(true);
    expect(completed.length).toBeGreaterThan(1);
    expect(completed).toEqual([...completed].sort((a, b) => a - b));
    const { models } = await ollama.list();
    expect(models.map((m) => m.name)).toContain('nomic-embed-text:latest');
    const vectors = await ollama.embed({ model: 'nomic-embed-text', input: 'x' });
    expect(vectors.embeddings[0]).toHaveLength(768);
  });

  it('should pull without streaming', async () => {
    const result = await ollama.pull({ model: 'mistral:7b', stream: false });
    expect(result.status).toBe('success');
    expect((await ollama.list()).models.map((m) => m.name)).toContain('mistral:7b');
  });

  it('should fail to pull a model missing from the catalog', async () => {
    await expect(ollama.pull({ model: 'no-such-model', stream: false })).rejects.toThrow(
      /file does not exist/,
    );
  });

  it('should copy and delete models', async () => {
    await ollama.copy({ source: 'llama3.2:3b', destination: 'my-llama' });
    const messages = [{ role: 'user', content: 'copy test' }];
    const reply = await ollama.chat({ model: 'my-llama', messages, stream: false });
    expect(reply.message.content).toBe(expectedAnswer('llama3.2:3b', messages));
    await ollama.delete({ model: 'my-llama' });
    expect((await ollama.list()).models.map((m) => m.name)).not.toContain('my-llama:latest');
    await expect(ollama.delete({ model: 'my-llama' })).rejects.toThrow(/not found/);
  });

  it('should report the version', async () => {
    expect((await ollama.version()).version).toBe('0.12.0');
  });
});
