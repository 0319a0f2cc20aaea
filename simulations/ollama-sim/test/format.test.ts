/**
 * Structured outputs, checked against the runner's handling of `format` (llm/llama_server.go,
 * Completion): null or "" is no format, "json" is JSON mode, an object is a JSON schema, and
 * anything else fails inside Completion as a 500 `invalid format: ...`.
 */
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedAnswer, expectedReply, type OllamaSim, startOllamaSim } from '../src/index.js';
import { post, readNdjson } from './helpers.js';

const SCHEMA = {
  type: 'object',
  properties: {
    age: { type: 'integer' },
    available: { type: 'boolean' },
    name: { type: 'string' },
    colour: { type: 'string', enum: ['red', 'blue'] },
    scores: { type: 'array', items: { type: 'number' } },
  },
  required: ['age', 'available'],
};

describe('format', () => {
  let sim: OllamaSim;
  let ollama: Ollama;
  const messages = [{ role: 'user', content: 'Ollama is 22 and busy. Return JSON.' }];

  beforeAll(async () => {
    sim = await startOllamaSim({ profile: 'fast', models: ['llama3.1:8b', 'qwen3:8b'] });
    ollama = new Ollama({ host: sim.url });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('should answer valid JSON in JSON mode, deterministically', async () => {
    const reply = await ollama.chat({ model: 'llama3.1:8b', messages, format: 'json', stream: false });
    const value = JSON.parse(reply.message.content) as Record<string, unknown>;
    expect(value).toEqual({ answer: expectedAnswer('llama3.1:8b', messages) });
    expect(reply.message.content).toBe(expectedReply('llama3.1:8b', { messages, format: 'json' }).content);
    expect(reply.done_reason).toBe('stop');
  });

  it('should answer JSON matching a schema, streamed in tokens that join to it', async () => {
    const lines = (await readNdjson(
      await post(`${sim.url}/api/chat`, { model: 'llama3.1:8b', messages, format: SCHEMA }),
    )) as Array<{ message: { content: string }; done: boolean }>;
    expect(lines.length).toBeGreaterThan(5);
    const text = lines.map((line) => line.message.content).join('');
    const value = JSON.parse(text) as Record<string, unknown>;
    expect(Number.isInteger(value.age)).toBe(true);
    expect(typeof value.available).toBe('boolean');
    expect(typeof value.name).toBe('string');
    expect(['red', 'blue']).toContain(value.colour);
    expect(Array.isArray(value.scores) && typeof (value.scores as unknown[])[0] === 'number').toBe(true);
    expect(text).toBe(expectedReply('llama3.1:8b', { messages, format: SCHEMA }).content);
  });

  it('should shape /api/generate answers too', async () => {
    const reply = await ollama.generate({
      model: 'llama3.1:8b',
      prompt: messages[0]!.content,
      format: SCHEMA,
      stream: false,
    });
    expect(reply.response).toBe(expectedReply('llama3.1:8b', { messages, format: SCHEMA }).content);
  });

  it('should think first, then answer JSON, on a thinking model', async () => {
    const reply = await ollama.chat({ model: 'qwen3:8b', messages, format: SCHEMA, stream: false });
    expect(reply.message.thinking).toBeTruthy();
    expect(typeof (JSON.parse(reply.message.content) as { age: unknown }).age).toBe('number');
  });

  it('should take null and "" as no format', async () => {
    for (const format of [null, '']) {
      const response = await post(`${sim.url}/api/chat`, {
        model: 'llama3.1:8b',
        messages,
        format,
        stream: false,
      });
      expect(((await response.json()) as { message: { content: string } }).message.content).toBe(
        expectedAnswer('llama3.1:8b', messages),
      );
    }
  });

  it('should fail any other format with the runner’s 500', async () => {
    const xml = await post(`${sim.url}/api/chat`, { model: 'llama3.1:8b', messages, format: 'xml' });
    expect(xml.status).toBe(500);
    expect(await xml.json()).toEqual({
      error: 'invalid format: "\\"xml\\""; expected "json" or a valid JSON Schema object',
    });
    const list = await post(`${sim.url}/api/generate`, {
      model: 'llama3.1:8b',
      prompt: 'x',
      format: [1],
      stream: false,
    });
    expect(list.status).toBe(500);
    expect(((await list.json()) as { error: string }).error).toMatch(/^invalid format: "\[1\]"/);
  });
});
