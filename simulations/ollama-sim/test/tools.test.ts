/**
 * Tool calling, checked against ChatHandler (server/routes.go): `tools` needs the tools
 * capability (scheduleRunner's `<name> does not support tools`), calls arrive in
 * message.tool_calls with ids shaped by toolCallId(), and a streamed call is one chunk.
 */
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedAnswer, expectedReply, type OllamaSim, startOllamaSim } from '../src/index.js';
import { post, readNdjson } from './helpers.js';

const WEATHER = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Get the weather in a given city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', description: 'The city' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer', minimum: 1, maximum: 7 },
      },
      required: ['city'],
    },
  },
};

describe('tool calls', () => {
  let sim: OllamaSim;
  let ollama: Ollama;

  beforeAll(async () => {
    sim = await startOllamaSim({
      profile: 'fast',
      models: ['llama3.2:3b', 'gemma3:4b', 'qwen3:8b', 'all-minilm'],
    });
    ollama = new Ollama({ host: sim.url });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('should call the first tool with arguments from its schema and the question, over two turns', async () => {
    const messages = [{ role: 'user', content: 'What is the weather in Tokyo?' }];
    const first = await ollama.chat({ model: 'llama3.2:3b', messages, tools: [WEATHER], stream: false });
    expect(first.message.content).toBe('');
    expect(first.done_reason).toBe('stop');
    const calls = first.message.tool_calls!;
    expect(calls).toHaveLength(1);
    const call = calls[0]! as {
      id?: string;
      function: { index?: number; name: string; arguments: Record<string, unknown> };
    };
    expect(call.id).toMatch(/^call_[a-z0-9]{8}$/);
    expect(call.function.index).toBe(0);
    expect(call.function.name).toBe('get_weather');
    expect(call.function.arguments.city).toBe('Tokyo');
    expect(['celsius', 'fahrenheit']).toContain(call.function.arguments.unit);
    expect(call.function.arguments.days).toBeGreaterThanOrEqual(1);
    expect(call.function.arguments.days).toBeLessThanOrEqual(7);
    expect(first.eval_count).toBeGreaterThan(1);
    expect(calls).toEqual(expectedReply('llama3.2:3b', { messages, tools: [WEATHER] }).tool_calls);

    // The tool's answer comes back; the model now answers in text, deterministically.
    const history = [
      ...messages,
      { role: 'assistant', content: '', tool_calls: calls },
      { role: 'tool', content: '18 degrees and sunny', tool_name: 'get_weather' },
    ];
    const second = await ollama.chat({
      model: 'llama3.2:3b',
      messages: history,
      tools: [WEATHER],
      stream: false,
    });
    expect(second.message.tool_calls).toBeUndefined();
    expect(second.message.content).toBe(expectedAnswer('llama3.2:3b', history));
    expect(second.message.content).not.toBe(expectedAnswer('llama3.2:3b', messages));
  });

  it('should stream a call as one chunk with empty content, then the final chunk', async () => {
    const messages = [{ role: 'user', content: 'weather in Lisbon' }];
    const lines = await readNdjson(
      await post(`${sim.url}/api/chat`, { model: 'llama3.2:3b', messages, tools: [WEATHER] }),
    );
    expect(lines).toHaveLength(2);
    const [callChunk, final] = lines as Array<{ message: Record<string, unknown>; done: boolean }>;
    expect(callChunk!.done).toBe(false);
    expect(callChunk!.message.content).toBe('');
    expect(callChunk!.message.tool_calls).toEqual(
      expectedReply('llama3.2:3b', { messages, tools: [WEATHER] }).tool_calls,
    );
    expect(final!.done).toBe(true);
    expect(final!.message).toEqual({ role: 'assistant', content: '' });
  });

  it('should give the same call for the same conversation and another for another', async () => {
    const ask = (content: string) =>
      expectedReply('llama3.2:3b', { messages: [{ role: 'user', content }], tools: [WEATHER] })
        .tool_calls[0]!;
    expect(ask('weather in Oslo')).toEqual(ask('weather in Oslo'));
    expect(ask('weather in Oslo').id).not.toBe(ask('weather in Paris').id);
    expect(ask('weather in Paris').function.arguments.city).toBe('Paris');
  });

  it('should think before calling a tool on a thinking model', async () => {
    const messages = [{ role: 'user', content: 'weather in Rome' }];
    const reply = await ollama.chat({ model: 'qwen3:8b', messages, tools: [WEATHER], stream: false });
    expect(reply.message.thinking).toBeTruthy();
    expect(reply.message.tool_calls?.[0]?.function.name).toBe('get_weather');
  });

  it('should refuse tools on a model without the capability, with the full name', async () => {
    const response = await post(`${sim.url}/api/chat`, {
      model: 'gemma3:4b',
      messages: [{ role: 'user', content: 'x' }],
      tools: [WEATHER],
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'registry.ollama.ai/library/gemma3:4b does not support tools',
    });
    // Without completion the handler's own text wins (errCapabilityCompletion).
    const embedding = await post(`${sim.url}/api/chat`, {
      model: 'all-minilm',
      messages: [{ role: 'user', content: 'x' }],
      tools: [WEATHER],
    });
    expect(await embedding.json()).toEqual({ error: '"all-minilm" does not support chat' });
    // An empty list asks nothing (len(req.Tools) > 0).
    const none = await post(`${sim.url}/api/chat`, {
      model: 'gemma3:4b',
      messages: [{ role: 'user', content: 'x' }],
      tools: [],
      stream: false,
    });
    expect(none.status).toBe(200);
  });

  it("should answer Ollama's 400 for tool-call arguments that are a string", async () => {
    const response = await post(`${sim.url}/api/chat`, {
      model: 'llama3.2:3b',
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
        },
        { role: 'tool', content: 'sunny' },
      ],
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: "Value looks like object, but can't find closing '}' symbol",
    });
  });

  it('should pass unknown fields of tools and messages through untouched', async () => {
    const messages = [{ role: 'user', content: 'weather in Kyiv', mood: 'curious' }];
    const tool = { ...WEATHER, strict: true, function: { ...WEATHER.function, extra: [1, 2] } };
    const response = await post(`${sim.url}/api/chat`, {
      model: 'llama3.2:3b',
      messages,
      tools: [tool],
      stream: false,
      unknown_top_level: { a: 1 },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { message: { tool_calls: unknown[] } };
    expect(body.message.tool_calls).toEqual(
      expectedReply('llama3.2:3b', {
        messages: [{ role: 'user', content: 'weather in Kyiv' }],
        tools: [WEATHER],
      }).tool_calls,
    );
  });
});
