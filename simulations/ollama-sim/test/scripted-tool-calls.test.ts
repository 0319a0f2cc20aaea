import { Ollama } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { expectedReply, type OllamaSim, startOllamaSim } from '../src/index.js';

const TOOLS = [
  { type: 'function', function: { name: 'first_tool', parameters: { type: 'object' } } },
  {
    type: 'function',
    function: {
      name: 'ha.call_service',
      parameters: {
        type: 'object',
        properties: { domain: { type: 'string' }, service: { type: 'string' } },
      },
    },
  },
];
const CALL = { name: 'ha.call_service', arguments: { domain: 'light', service: 'turn_off' } };

describe('scripted tool calls', () => {
  const sims: OllamaSim[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((sim) => sim.close()));
  });

  it('should make the scripted call, streamed as one chunk, in place of the first tool', async () => {
    const sim = await startOllamaSim({ profile: 'fast', toolCalls: { 'lights off': [CALL] } });
    sims.push(sim);
    const ollama = new Ollama({ host: sim.url });
    const messages = [{ role: 'user', content: 'lights off' }];
    const chunks = [];
    for await (const chunk of await ollama.chat({
      model: 'llama3.2:3b',
      messages,
      tools: TOOLS,
      stream: true,
    }))
      chunks.push(chunk);
    const calls = chunks.flatMap((chunk) => chunk.message.tool_calls ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.function).toEqual({ index: 0, name: 'ha.call_service', arguments: CALL.arguments });
    expect((calls[0] as { id?: string }).id).toMatch(/^call_[a-z0-9]{8}$/);
    expect(chunks.map((chunk) => chunk.message.content).join('')).toBe('');
    // Another prompt is not scripted: the first tool, as before.
    const other = [{ role: 'user', content: 'something else' }];
    const plain = await ollama.chat({ model: 'llama3.2:3b', messages: other, tools: TOOLS, stream: false });
    expect(plain.message.tool_calls).toEqual(
      expectedReply('llama3.2:3b', { messages: other, tools: TOOLS }).tool_calls,
    );
  });

  it('should answer as unscripted when the script names a tool not offered, and in text after a tool message', async () => {
    const sim = await startOllamaSim({ profile: 'fast' });
    sims.push(sim);
    sim.setToolCalls({ 'lights off': [CALL] });
    const ollama = new Ollama({ host: sim.url });
    const messages = [{ role: 'user', content: 'lights off' }];
    const onlyFirst = [TOOLS[0]!];
    const reply = await ollama.chat({ model: 'llama3.2:3b', messages, tools: onlyFirst, stream: false });
    expect(reply.message.tool_calls?.[0]?.function.name).toBe('first_tool');
    const after = [
      ...messages,
      { role: 'assistant', content: '', tool_calls: [{ function: CALL }] },
      { role: 'tool', tool_name: 'ha.call_service', content: '[]' },
    ];
    const answer = await ollama.chat({ model: 'llama3.2:3b', messages: after, tools: TOOLS, stream: false });
    expect(answer.message.tool_calls ?? []).toEqual([]);
    expect(answer.message.content).toBe(
      expectedReply('llama3.2:3b', { messages: after, tools: TOOLS }).content,
    );
  });
});
