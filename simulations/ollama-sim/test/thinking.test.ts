/**
 * Thinking, checked against ChatHandler and GenerateHandler (server/routes.go): a model with the
 * thinking capability thinks unless `think` is false (req.Think defaults to true), its thoughts
 * come in `message.thinking` / `thinking`; other models answer 400 `"<model>" does not support
 * thinking` to any true or level `think`; ThinkValue.UnmarshalJSON refuses other values.
 */
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedAnswer, expectedReply, type OllamaSim, startOllamaSim } from '../src/index.js';
import { post, readNdjson } from './helpers.js';

describe('thinking', () => {
  let sim: OllamaSim;
  let ollama: Ollama;
  const messages = [{ role: 'user', content: 'Why is the sky blue?' }];

  beforeAll(async () => {
    sim = await startOllamaSim({ profile: 'fast', models: ['qwen3:8b', 'llama3.2:3b'] });
    ollama = new Ollama({ host: sim.url });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('should think by default on a thinking model, and answer the same text as without thinking', async () => {
    const reply = await ollama.chat({ model: 'qwen3:8b', messages, stream: false });
    const expected = expectedReply('qwen3:8b', { messages });
    expect(reply.message.thinking).toBe(expected.thinking);
    expect(reply.message.thinking!.length).toBeGreaterThan(0);
    expect(reply.message.content).toBe(expectedAnswer('qwen3:8b', messages));
    expect(reply.message.content).toBe(expected.content);
    const thinkingTokens = expected.thinking.split(' ').length;
    const contentTokens = expected.content.split(' ').length;
    expect(reply.eval_count).toBe(thinkingTokens + contentTokens);
  });

  it('should not think with think: false', async () => {
    const reply = await ollama.chat({ model: 'qwen3:8b', messages, think: false, stream: false });
    expect(reply.message.thinking).toBeUndefined();
    expect(reply.message.content).toBe(expectedAnswer('qwen3:8b', messages));
  });

  it('should stream thoughts in message.thinking before the text', async () => {
    const lines = (await readNdjson(
      await post(`${sim.url}/api/chat`, { model: 'qwen3:8b', messages, think: true }),
    )) as Array<{ message: { content: string; thinking?: string }; done: boolean }>;
    const parts = lines.filter((line) => !line.done);
    const firstText = parts.findIndex((line) => line.message.content !== '');
    expect(firstText).toBeGreaterThan(0);
    expect(
      parts.slice(0, firstText).every((line) => line.message.content === '' && line.message.thinking),
    ).toBe(true);
    expect(parts.slice(firstText).every((line) => line.message.thinking === undefined)).toBe(true);
    expect(parts.map((line) => line.message.thinking ?? '').join('')).toBe(
      expectedReply('qwen3:8b', { messages }).thinking,
    );
  });

  it('should think longer at higher levels', async () => {
    const length = (think: string) =>
      expectedReply('qwen3:8b', { messages, think }).thinking.split(' ').length;
    expect(length('low')).toBeLessThan(length('medium'));
    expect(length('medium')).toBeLessThan(length('high'));
    expect(length('high')).toBeLessThan(length('max'));
    const high = await ollama.chat({ model: 'qwen3:8b', messages, think: 'high', stream: false });
    expect(high.message.thinking).toBe(expectedReply('qwen3:8b', { messages, think: 'high' }).thinking);
    // `true` is the medium level (ThinkValue.String()).
    expect(expectedReply('qwen3:8b', { messages, think: true }).thinking).toBe(
      expectedReply('qwen3:8b', { messages, think: 'medium' }).thinking,
    );
  });

  it('should count thoughts against num_predict', async () => {
    const thought = expectedReply('qwen3:8b', { messages }).thinking.split(' ').length;
    const cut = await ollama.chat({
      model: 'qwen3:8b',
      messages,
      options: { num_predict: 3 },
      stream: false,
    });
    expect(cut.done_reason).toBe('length');
    expect(cut.eval_count).toBe(3);
    expect(cut.message.content).toBe('');
    const some = await ollama.chat({
      model: 'qwen3:8b',
      messages,
      options: { num_predict: thought + 4 },
      stream: false,
    });
    expect(some.message.content).toBe(expectedAnswer('qwen3:8b', messages, 4));
  });

  it('should think in /api/generate too', async () => {
    const reply = await ollama.generate({ model: 'qwen3:8b', prompt: 'Why is the sky blue?', stream: false });
    expect(reply.thinking).toBe(expectedReply('qwen3:8b', { messages }).thinking);
    expect(reply.response).toBe(expectedAnswer('qwen3:8b', messages));
    const quiet = await ollama.generate({
      model: 'qwen3:8b',
      prompt: 'Why is the sky blue?',
      think: false,
      stream: false,
    });
    expect(quiet.thinking).toBeUndefined();
  });

  it("should refuse think on a model without the capability, with Ollama's 400", async () => {
    for (const think of [true, 'low', 'high', 'max']) {
      const response = await post(`${sim.url}/api/chat`, { model: 'llama3.2:3b', messages, think });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: '"llama3.2:3b" does not support thinking' });
    }
    const generate = await post(`${sim.url}/api/generate`, {
      model: 'llama3.2:3b',
      prompt: 'x',
      think: true,
    });
    expect(await generate.json()).toEqual({ error: '"llama3.2:3b" does not support thinking' });
    const off = await post(`${sim.url}/api/chat`, {
      model: 'llama3.2:3b',
      messages,
      think: false,
      stream: false,
    });
    expect(off.status).toBe(200);
  });

  it('should refuse think values ThinkValue does not know', async () => {
    const bad = await post(`${sim.url}/api/chat`, { model: 'qwen3:8b', messages, think: 'hard' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: 'invalid think value: "hard" (must be "high", "medium", "low", "max", true, or false)',
    });
    const number = await post(`${sim.url}/api/chat`, { model: 'qwen3:8b', messages, think: 1 });
    expect(await number.json()).toEqual({
      error: 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)',
    });
  });
});
