/**
 * The client matrix, OpenAI's API: the official `openai` client and `ai` with
 * `@ai-sdk/openai-compatible`, each case once against the node holding the model and once
 * against the other node of a two-node home. Answers are checked against ollama-sim's.
 */

import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { expectedAnswer, expectedReply } from '@allerac/ollama-sim';
import { embedMany, generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BOB_CHAT,
  CHAT,
  EMBED,
  EMBED_DIMENSIONS,
  type MatrixHome,
  SCOPES,
  type Scope,
  startMatrixHome,
  THINKER,
} from './helpers/client-matrix-home.js';

const PROMPT = 'What is the weather in Lisbon?';
const question = [{ role: 'user' as const, content: PROMPT }];
const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather now',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
/** Structured output: every client asks for this shape and must get a value of it. */
const Weather = z.object({
  city: z.string(),
  celsius: z.number().int().min(-30).max(50),
  sunny: z.boolean(),
});

let home: MatrixHome;
const url = (scope: Scope, model: string) => `${home.entry(scope, model).node.url}/v1`;
const holderName = (model: string) => home.holder(model).node.config.name;
const openaiAt = (scope: Scope, model: string) =>
  new OpenAI({ baseURL: url(scope, model), apiKey: 'loopback', maxRetries: 0 });

/** The second turn reached Ollama with the tool's result, and its answer is the one Ollama gives to that. */
function expectSecondTurnAnswered(model: string, text: unknown): void {
  const body = home.lastBody(model);
  expect(body.messages).toContainEqual(
    expect.objectContaining({ role: 'tool', content: expect.stringContaining('21C and sunny') }),
  );
  expect(text).toBe(expectedReply(model, body).content);
  expect(text).not.toBe('');
}

type Case = (scope: Scope) => Promise<void>;

const openaiCases: Record<string, Case> = {
  chat: async (scope) => {
    const { data, response } = await home.served(CHAT, () =>
      openaiAt(scope, CHAT).chat.completions.create({ model: CHAT, messages: question }).withResponse(),
    );
    expect(response.headers.get('x-allerac-node')).toBe(holderName(CHAT));
    expect(data.choices[0]?.message.content).toBe(expectedAnswer(CHAT, question));
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(data.usage?.prompt_tokens).toBeGreaterThan(0);
  },
  'chat streamed': async (scope) => {
    const { text, header } = await home.served(CHAT, async () => {
      const { data, response } = await openaiAt(scope, CHAT)
        .chat.completions.create({ model: CHAT, messages: question, stream: true })
        .withResponse();
      let all = '';
      for await (const chunk of data) all += chunk.choices[0]?.delta.content ?? '';
      return { text: all, header: response.headers.get('x-allerac-node') };
    });
    expect(header).toBe(holderName(CHAT));
    expect(text).toBe(expectedAnswer(CHAT, question));
  },
  'tools over two turns': async (scope) => {
    const client = openaiAt(scope, CHAT);
    const first = await home.served(CHAT, () =>
      client.chat.completions.create({ model: CHAT, messages: question, tools: [weatherTool] }),
    );
    expect(first.choices[0]?.finish_reason).toBe('tool_calls');
    const call = first.choices[0]?.message.tool_calls?.[0];
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Lisbon' });
    const messages: ChatCompletionMessageParam[] = [
      ...question,
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: '21C and sunny' },
    ];
    const second = await home.served(CHAT, () =>
      client.chat.completions.create({ model: CHAT, messages, tools: [weatherTool] }),
    );
    expect(second.choices[0]?.finish_reason).toBe('stop');
    expectSecondTurnAnswered(CHAT, second.choices[0]?.message.content);
  },
  thinking: async (scope) => {
    const reply = await home.served(THINKER, () =>
      openaiAt(scope, THINKER).chat.completions.create({
        model: THINKER,
        messages: question,
        reasoning_effort: 'medium',
      }),
    );
    const expected = expectedReply(THINKER, home.lastBody(THINKER));
    expect(expected.thinking).not.toBe('');
    // Ollama's own /v1 names the thoughts `reasoning` (openai/openai.go).
    const message = reply.choices[0]?.message as { reasoning?: string; content: string | null } | undefined;
    expect(message?.reasoning).toBe(expected.thinking);
    expect(message?.content).toBe(expected.content);
  },
  'structured output': async (scope) => {
    const reply = await home.served(CHAT, () =>
      openaiAt(scope, CHAT).chat.completions.create({
        model: CHAT,
        messages: question,
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'weather', schema: z.toJSONSchema(Weather) },
        },
      }),
    );
    expect(Weather.parse(JSON.parse(reply.choices[0]?.message.content ?? ''))).toBeTruthy();
  },
  embeddings: async (scope) => {
    const reply = await home.served(EMBED, () =>
      openaiAt(scope, EMBED).embeddings.create({ model: EMBED, input: ['sunny', 'rainy'] }),
    );
    expect(reply.data.map((d) => d.embedding.length)).toEqual([EMBED_DIMENSIONS, EMBED_DIMENSIONS]);
    expect(reply.data.map((d) => d.index)).toEqual([0, 1]);
  },
  completions: async (scope) => {
    const reply = await home.served(CHAT, () =>
      openaiAt(scope, CHAT).completions.create({ model: CHAT, prompt: PROMPT }),
    );
    expect(reply.choices[0]?.text).toBe(expectedAnswer(CHAT, question));
  },
  'completions streamed': async (scope) => {
    const text = await home.served(CHAT, async () => {
      let all = '';
      const stream = await openaiAt(scope, CHAT).completions.create({
        model: CHAT,
        prompt: PROMPT,
        stream: true,
      });
      for await (const chunk of stream) all += chunk.choices[0]?.text ?? '';
      return all;
    });
    expect(text).toBe(expectedAnswer(CHAT, question));
  },
  responses: async (scope) => {
    const reply = await home.served(CHAT, () =>
      openaiAt(scope, CHAT).responses.create({ model: CHAT, input: PROMPT }),
    );
    expect(reply.status).toBe('completed');
    expect(reply.output_text).toBe(expectedAnswer(CHAT, question));
  },
  'responses streamed': async (scope) => {
    const { text, done } = await home.served(CHAT, async () => {
      let all = '';
      let completed: string | undefined;
      const stream = await openaiAt(scope, CHAT).responses.create({
        model: CHAT,
        input: PROMPT,
        stream: true,
      });
      for await (const event of stream) {
        if (event.type === 'response.output_text.delta') all += event.delta;
        // The SDK adds `output_text` to created responses only; a streamed one carries its output items.
        if (event.type === 'response.completed') {
          completed = event.response.output
            .flatMap((item) => (item.type === 'message' ? item.content : []))
            .map((part) => (part.type === 'output_text' ? part.text : ''))
            .join('');
        }
      }
      return { text: all, done: completed };
    });
    expect(text).toBe(expectedAnswer(CHAT, question));
    expect(done).toBe(text);
  },
  models: async (scope) => {
    const client = openaiAt(scope, CHAT);
    const ids = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining([CHAT, BOB_CHAT, THINKER, EMBED]));
    expect((await client.models.retrieve(THINKER)).id).toBe(THINKER);
  },
};

const compatible = (scope: Scope, model: string) =>
  createOpenAICompatible({ name: 'allerac', baseURL: url(scope, model), supportsStructuredOutputs: true });

const compatibleCases: Record<string, Case> = {
  chat: async (scope) => {
    const result = await home.served(CHAT, () =>
      generateText({ model: compatible(scope, CHAT).chatModel(CHAT), messages: question }),
    );
    expect(result.response.headers?.['x-allerac-node']).toBe(holderName(CHAT));
    expect(result.text).toBe(expectedAnswer(CHAT, question));
    expect(result.finishReason).toBe('stop');
  },
  'chat streamed': async (scope) => {
    const text = await home.served(CHAT, async () => {
      const result = streamText({ model: compatible(scope, CHAT).chatModel(CHAT), messages: question });
      let all = '';
      for await (const delta of result.textStream) all += delta;
      return all;
    });
    expect(text).toBe(expectedAnswer(CHAT, question));
  },
  'tools over two turns': async (scope) => {
    const calls: unknown[] = [];
    const result = await home.served(CHAT, () =>
      generateText({
        model: compatible(scope, CHAT).chatModel(CHAT),
        messages: question,
        tools: {
          get_weather: tool({
            description: 'The weather now',
            inputSchema: z.object({ city: z.string() }),
            execute: async (input) => {
              calls.push(input);
              return '21C and sunny';
            },
          }),
        },
        stopWhen: stepCountIs(2),
      }),
    );
    expect(calls).toEqual([{ city: 'Lisbon' }]);
    expect(result.steps).toHaveLength(2);
    expectSecondTurnAnswered(CHAT, result.text);
  },
  thinking: async (scope) => {
    const result = await home.served(THINKER, () =>
      generateText({
        model: compatible(scope, THINKER).chatModel(THINKER),
        messages: question,
        providerOptions: { allerac: { reasoningEffort: 'medium' } },
      }),
    );
    const expected = expectedReply(THINKER, home.lastBody(THINKER));
    expect(expected.thinking).not.toBe('');
    expect(result.reasoningText).toBe(expected.thinking);
    expect(result.text).toBe(expected.content);
  },
  'structured output': async (scope) => {
    const result = await home.served(CHAT, () =>
      generateObject({ model: compatible(scope, CHAT).chatModel(CHAT), schema: Weather, messages: question }),
    );
    expect(Weather.parse(result.object)).toEqual(result.object);
  },
  embeddings: async (scope) => {
    const result = await home.served(EMBED, () =>
      embedMany({ model: compatible(scope, EMBED).embeddingModel(EMBED), values: ['sunny', 'rainy'] }),
    );
    expect(result.embeddings.map((v) => v.length)).toEqual([EMBED_DIMENSIONS, EMBED_DIMENSIONS]);
  },
  completions: async (scope) => {
    const result = await home.served(CHAT, () =>
      generateText({ model: compatible(scope, CHAT).completionModel(CHAT), prompt: PROMPT }),
    );
    // The provider writes the conversation as one `user:`/`assistant:` prompt, stopping at the next `user:`.
    const body = home.lastBody(CHAT);
    expect(body.prompt).toBe(`user:\n${PROMPT}\n\nassistant:\n`);
    expect(result.text).toBe(expectedAnswer(CHAT, [{ role: 'user', content: String(body.prompt) }]));
  },
};

const table = (client: string, cases: Record<string, Case>) =>
  Object.entries(cases).flatMap(([name, run]) => SCOPES.map((scope) => ({ client, name, scope, run })));

describe('client matrix: OpenAI API clients against a two-node home', () => {
  beforeAll(async () => {
    home = await startMatrixHome();
  }, 60_000);
  afterAll(async () => {
    await home?.teardown();
  });

  it.each([...table('openai', openaiCases), ...table('@ai-sdk/openai-compatible', compatibleCases)])(
    'should serve $client: $name ($scope)',
    async ({ run, scope }) => {
      await run(scope);
    },
  );
});
