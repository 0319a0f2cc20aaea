/**
 * The client matrix, Ollama's API: the official `ollama` client, `@langchain/ollama` and `ai`
 * with `ai-sdk-ollama`, each case once against the node holding the model and once against the
 * other node of a two-node home. Answers are checked against ollama-sim's deterministic ones.
 */
import { expectedAnswer, expectedReply } from '@allerac/ollama-sim';
import { AIMessage, HumanMessage, ToolMessage } from '@langchain/core/messages';
import { tool as langchainTool } from '@langchain/core/tools';
import { ChatOllama, Ollama as LangchainOllama, OllamaEmbeddings } from '@langchain/ollama';
import { embedMany, generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import { createOllama } from 'ai-sdk-ollama';
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
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
const weatherParameters = {
  type: 'object',
  properties: { city: { type: 'string', description: 'The city' } },
  required: ['city'],
};
const ollamaTools = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'The weather now', parameters: weatherParameters },
  },
];
/** Structured output: every client asks for this shape and must get a value of it. */
const Weather = z.object({
  city: z.string(),
  celsius: z.number().int().min(-30).max(50),
  sunny: z.boolean(),
});
const weatherSchema = z.toJSONSchema(Weather);

let home: MatrixHome;

/** The second turn reached Ollama with the tool's result, and its answer is the one Ollama gives to that. */
function expectSecondTurnAnswered(model: string, text: unknown): void {
  const body = home.lastBody(model);
  expect(body.messages).toContainEqual(
    expect.objectContaining({ role: 'tool', content: expect.stringContaining('21C and sunny') }),
  );
  expect(text).toBe(expectedReply(model, body).content);
  expect(text).not.toBe('');
}
const url = (scope: Scope, model: string) => home.entry(scope, model).node.url;
const holderName = (model: string) => home.holder(model).node.config.name;

type Case = (scope: Scope) => Promise<void>;

const ollamaCases: Record<string, Case> = {
  chat: async (scope) => {
    const client = new Ollama({ host: url(scope, CHAT) });
    const reply = await home.served(CHAT, () =>
      client.chat({ model: CHAT, messages: question, stream: false }),
    );
    expect(reply.message.content).toBe(expectedAnswer(CHAT, question));
    expect(reply).toMatchObject({ done: true, allerac: { node: holderName(CHAT) } });
    // Ollama's counters and durations survive the trip through a peer.
    expect(reply.eval_count).toBeGreaterThan(0);
    expect(reply.prompt_eval_count).toBeGreaterThan(0);
    expect(reply.total_duration).toBeGreaterThan(0);
  },
  'chat streamed': async (scope) => {
    const client = new Ollama({ host: url(scope, CHAT) });
    const chunks = await home.served(CHAT, async () => {
      const all = [];
      for await (const chunk of await client.chat({ model: CHAT, messages: question, stream: true }))
        all.push(chunk);
      return all;
    });
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((c) => c.message.content).join('')).toBe(expectedAnswer(CHAT, question));
    expect(chunks.at(-1)).toMatchObject({
      done: true,
      done_reason: 'stop',
      allerac: { node: holderName(CHAT) },
    });
  },
  generate: async (scope) => {
    const client = new Ollama({ host: url(scope, CHAT) });
    const reply = await home.served(CHAT, () => client.generate({ model: CHAT, prompt: PROMPT }));
    expect(reply.response).toBe(expectedAnswer(CHAT, question));
    expect(reply).toMatchObject({ done: true, allerac: { node: holderName(CHAT) } });
  },
  'generate streamed': async (scope) => {
    const client = new Ollama({ host: url(scope, CHAT) });
    const text = await home.served(CHAT, async () => {
      let all = '';
      for await (const chunk of await client.generate({
        model: CHAT,
        prompt: PROMPT,
        stream: true,
      })) {
        all += chunk.response;
      }
      return all;
    });
    expect(text).toBe(expectedAnswer(CHAT, question));
  },
  'tools over two turns': async (scope) => {
    const client = new Ollama({ host: url(scope, CHAT) });
    const first = await home.served(CHAT, () =>
      client.chat({ model: CHAT, messages: question, tools: ollamaTools }),
    );
    const call = first.message.tool_calls?.[0];
    expect(call?.function).toMatchObject({ name: 'get_weather', arguments: { city: 'Lisbon' } });
    expect(first.message.tool_calls).toEqual(
      expectedReply(CHAT, { messages: question, tools: ollamaTools }).tool_calls,
    );
    const messages = [
      ...question,
      { role: 'assistant', content: '', tool_calls: first.message.tool_calls },
      { role: 'tool', content: '21C and sunny', tool_name: 'get_weather' },
    ];
    const second = await home.served(CHAT, () => client.chat({ model: CHAT, messages, tools: ollamaTools }));
    expect(second.message.tool_calls ?? []).toEqual([]);
    expect(second.message.content).toBe(expectedReply(CHAT, { messages, tools: ollamaTools }).content);
    expectSecondTurnAnswered(CHAT, second.message.content);
  },
  thinking: async (scope) => {
    const client = new Ollama({ host: url(scope, THINKER) });
    const reply = await home.served(THINKER, () =>
      client.chat({ model: THINKER, messages: question, think: true }),
    );
    const expected = expectedReply(THINKER, { messages: question, think: true });
    expect(expected.thinking).not.toBe('');
    expect(reply.message.thinking).toBe(expected.thinking);
    expect(reply.message.content).toBe(expected.content);
  },
  'structured output': async (scope) => {
    const client = new Ollama({ host: url(scope, CHAT) });
    const reply = await home.served(CHAT, () =>
      client.chat({ model: CHAT, messages: question, format: weatherSchema }),
    );
    expect(Weather.parse(JSON.parse(reply.message.content))).toBeTruthy();
  },
  embeddings: async (scope) => {
    const client = new Ollama({ host: url(scope, EMBED) });
    const reply = await home.served(EMBED, () => client.embed({ model: EMBED, input: ['sunny', 'rainy'] }));
    expect(reply.embeddings.map((v) => v.length)).toEqual([EMBED_DIMENSIONS, EMBED_DIMENSIONS]);
    expect(reply.embeddings[0]).not.toEqual(reply.embeddings[1]);
  },
  show: async (scope) => {
    const client = new Ollama({ host: url(scope, THINKER) });
    const shown = await client.show({ model: THINKER });
    expect(shown.capabilities).toEqual(expect.arrayContaining(['completion', 'tools', 'thinking']));
    expect(shown.details.family).toBe('qwen3');
  },
  ps: async (scope) => {
    const client = new Ollama({ host: url(scope, THINKER) });
    const { models } = await client.ps();
    expect(models.map((m) => m.name)).toContain(THINKER);
  },
};

/** A fetch that adds `"allerac": {"node": ...}` to each JSON body: the ollama client drops unknown fields. */
function aimedAt(node: string): typeof fetch {
  return (input, init) => {
    const body =
      typeof init?.body === 'string'
        ? JSON.stringify({ ...JSON.parse(init.body), allerac: { node } })
        : init?.body;
    return fetch(input, { ...init, body });
  };
}

/** Pull, copy and delete through the ollama client: "local" on alice, "peer" aimed at bob from alice. */
const managementCase: Case = async (scope) => {
  const target = scope === 'local' ? home.alice : home.bob;
  const name = target.node.config.name;
  const client = new Ollama({
    host: home.alice.node.url,
    ...(scope === 'peer' ? { fetch: aimedAt(name) } : {}),
  });
  const onTarget = async () => (await new Ollama({ host: target.sim!.url }).list()).models.map((m) => m.name);
  const model = 'gemma3:4b';
  const copy = `gemma3:matrix-${scope}`;
  const progress = [];
  for await (const line of await client.pull({ model, stream: true })) progress.push(line.status);
  expect(progress[0]).toBe('pulling manifest');
  expect(progress.at(-1)).toBe('success');
  expect(await onTarget()).toContain(model);
  expect(await client.copy({ source: model, destination: copy })).toEqual({ status: 'success' });
  expect(await onTarget()).toContain(copy);
  await client.delete({ model: copy });
  await client.delete({ model });
  expect(await onTarget()).not.toEqual(expect.arrayContaining([model]));
  expect(await onTarget()).not.toContain(copy);
};

const ollamaModel = (
  scope: Scope,
  model: string,
  settings: Parameters<ReturnType<typeof createOllama>>[1] = {},
) => createOllama({ baseURL: url(scope, model) })(model, settings);

const aiSdkOllamaCases: Record<string, Case> = {
  chat: async (scope) => {
    const result = await home.served(CHAT, () =>
      generateText({ model: ollamaModel(scope, CHAT), messages: question }),
    );
    expect(result.text).toBe(expectedAnswer(CHAT, question));
    expect(result.finishReason).toBe('stop');
  },
  'chat streamed': async (scope) => {
    const text = await home.served(CHAT, async () => {
      const result = streamText({ model: ollamaModel(scope, CHAT), messages: question });
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
        model: ollamaModel(scope, CHAT),
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
    expect(result.finishReason).toBe('stop');
  },
  thinking: async (scope) => {
    const result = await home.served(THINKER, () =>
      generateText({ model: ollamaModel(scope, THINKER, { think: true }), messages: question }),
    );
    const expected = expectedReply(THINKER, { messages: question, think: true });
    expect(result.reasoningText).toBe(expected.thinking);
    expect(result.text).toBe(expected.content);
  },
  'structured output': async (scope) => {
    const result = await home.served(CHAT, () =>
      generateObject({ model: ollamaModel(scope, CHAT), schema: Weather, messages: question }),
    );
    expect(Weather.parse(result.object)).toEqual(result.object);
  },
  embeddings: async (scope) => {
    const provider = createOllama({ baseURL: url(scope, EMBED) });
    const result = await home.served(EMBED, () =>
      embedMany({ model: provider.embedding(EMBED), values: ['sunny', 'rainy'] }),
    );
    expect(result.embeddings.map((v) => v.length)).toEqual([EMBED_DIMENSIONS, EMBED_DIMENSIONS]);
  },
};

const langchainChat = (scope: Scope, model: string, extra: { think?: boolean } = {}) =>
  new ChatOllama({ baseUrl: url(scope, model), model, ...extra });

const langchainCases: Record<string, Case> = {
  chat: async (scope) => {
    const reply = await home.served(CHAT, () => langchainChat(scope, CHAT).invoke(PROMPT));
    expect(reply.content).toBe(expectedAnswer(CHAT, question));
  },
  'chat streamed': async (scope) => {
    const text = await home.served(CHAT, async () => {
      let all = '';
      for await (const chunk of await langchainChat(scope, CHAT).stream(PROMPT)) all += chunk.content;
      return all;
    });
    expect(text).toBe(expectedAnswer(CHAT, question));
  },
  generate: async (scope) => {
    const llm = new LangchainOllama({ baseUrl: url(scope, CHAT), model: CHAT });
    const text = await home.served(CHAT, () => llm.invoke(PROMPT));
    expect(text).toBe(expectedAnswer(CHAT, question));
  },
  'tools over two turns': async (scope) => {
    const weather = langchainTool(async () => '21C and sunny', {
      name: 'get_weather',
      description: 'The weather now',
      schema: z.object({ city: z.string() }),
    });
    const model = langchainChat(scope, CHAT).bindTools([weather]);
    const first = await home.served(CHAT, () => model.invoke([new HumanMessage(PROMPT)]));
    expect(first.tool_calls).toHaveLength(1);
    const call = first.tool_calls![0]!;
    expect(call).toMatchObject({ name: 'get_weather', args: { city: 'Lisbon' } });
    const second = await home.served(CHAT, () =>
      model.invoke([
        new HumanMessage(PROMPT),
        new AIMessage({ content: '', tool_calls: first.tool_calls }),
        new ToolMessage({ content: '21C and sunny', tool_call_id: call.id ?? '', name: 'get_weather' }),
      ]),
    );
    expect(second.tool_calls ?? []).toEqual([]);
    expectSecondTurnAnswered(CHAT, second.content);
  },
  thinking: async (scope) => {
    const reply = await home.served(THINKER, () =>
      langchainChat(scope, THINKER, { think: true }).invoke(PROMPT),
    );
    const expected = expectedReply(THINKER, { messages: question, think: true });
    expect(reply.additional_kwargs.reasoning_content).toBe(expected.thinking);
    expect(reply.content).toBe(expected.content);
  },
  'structured output': async (scope) => {
    const structured = langchainChat(scope, CHAT).withStructuredOutput(Weather);
    const value = await home.served(CHAT, () => structured.invoke(PROMPT));
    expect(Weather.parse(value)).toEqual(value);
  },
  embeddings: async (scope) => {
    const embeddings = new OllamaEmbeddings({ baseUrl: url(scope, EMBED), model: EMBED });
    const vectors = await home.served(EMBED, () => embeddings.embedDocuments(['sunny', 'rainy']));
    expect(vectors.map((v) => v.length)).toEqual([EMBED_DIMENSIONS, EMBED_DIMENSIONS]);
  },
};

const table = (client: string, cases: Record<string, Case>) =>
  Object.entries(cases).flatMap(([name, run]) => SCOPES.map((scope) => ({ client, name, scope, run })));

describe('client matrix: Ollama API clients against a two-node home', () => {
  beforeAll(async () => {
    home = await startMatrixHome();
  }, 60_000);
  afterAll(async () => {
    await home?.teardown();
  });

  it.each([
    ...table('ollama', { ...ollamaCases, 'pull, copy and delete': managementCase }),
    ...table('@langchain/ollama', langchainCases),
    ...table('ai-sdk-ollama', aiSdkOllamaCases),
  ])('should serve $client: $name ($scope)', async ({ run, scope }) => {
    await run(scope);
  });
});
