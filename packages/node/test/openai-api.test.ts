/**
 * The OpenAI-compatible API end to end, through the official `openai` client: the tool loop over
 * two turns (served here and by a peer), thinking, /v1/completions, /v1/responses and
 * /v1/models/{untagged}. Plain answers come from ollama-sim; tool calls and thinking from a
 * scripted Ollama that streams what Ollama's server streams for a tool-capable thinking model.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions.js';
import type { ResponseInputItem } from 'openai/resources/responses/responses.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const MODEL = 'llama3.2:3b';
/** Fills in the middle (Ollama's `insert` capability). */
const CODER = 'qwen2.5-coder:7b';
const THINKER = 'qwen3:8b';

const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city now',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

/** The second turn of a tool loop, as a client sends it after running the tool. */
const secondTurn: ChatCompletionMessageParam[] = [
  { role: 'user', content: 'What is the weather in Lisbon?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Lisbon"}' } },
    ],
  },
  { role: 'tool', tool_call_id: 'call_w1', content: '21C and sunny' },
];

/** The /api/chat bodies a simulator received, newest last. */
function chatBodies(t: TestNode): Array<Record<string, unknown>> {
  return (t.sim?.requests() ?? [])
    .filter((r) => r.path === '/api/chat' || r.path === '/api/generate')
    .map((r) => ({ path: r.path, ...(JSON.parse(r.body) as Record<string, unknown>) }));
}

/** What Ollama must have been sent for the second turn: arguments as an object, the result named. */
const expectSecondTurnAsOllamaTakesIt = (body: Record<string, unknown> | undefined) =>
  expect(body?.messages).toEqual([
    { role: 'user', content: 'What is the weather in Lisbon?' },
    {
      role: 'assistant',
      tool_calls: [{ id: 'call_w1', function: { name: 'get_weather', arguments: { city: 'Lisbon' } } }],
    },
    { role: 'tool', content: '21C and sunny', tool_name: 'get_weather', tool_call_id: 'call_w1' },
  ]);

describe('openai api: served by ollama-sim, through the openai client', () => {
  let t: TestNode;
  let openai: OpenAI;

  beforeAll(async () => {
    t = await startTestNode({
      sim: {
        profile: 'fast',
        models: [MODEL, 'llama3.2:latest', CODER, THINKER],
        // Loaded, so the router never weighs whether they fit this machine's memory.
        preload: [CODER, THINKER],
        recordRequests: true,
      },
    });
    openai = new OpenAI({ baseURL: `${t.node.url}/v1`, apiKey: 'unused-on-loopback', maxRetries: 0 });
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('should send the second turn of a tool loop as Ollama takes it, streamed and not', async () => {
    const whole = await openai.chat.completions.create({
      model: MODEL,
      messages: secondTurn,
      tools: [weatherTool],
    });
    expect(whole.choices[0]?.finish_reason).toBe('stop');
    expect(whole.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expectSecondTurnAsOllamaTakesIt(chatBodies(t).at(-1));
    const stream = await openai.chat.completions.create({ model: MODEL, messages: secondTurn, stream: true });
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish ??= chunk.choices[0]?.finish_reason;
    }
    expect(text).toBe(whole.choices[0]?.message.content);
    expect(finish).toBe('stop');
    expectSecondTurnAsOllamaTakesIt(chatBodies(t).at(-1));
  });

  it('should map reasoning_effort to think and the sampling fields to options', async () => {
    await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      reasoning_effort: 'none',
      max_completion_tokens: 5,
      stop: ['.'],
      seed: 7,
      presence_penalty: 0.5,
    });
    const body = chatBodies(t).at(-1);
    expect(body?.think).toBe(false);
    expect(body?.options).toEqual({
      num_predict: 5,
      stop: ['.'],
      seed: 7,
      temperature: 1,
      top_p: 1,
      presence_penalty: 0.5,
    });
  });

  it('should refuse an unknown reasoning effort with an OpenAI-shaped 400', async () => {
    const error = await openai.chat.completions
      .create({
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        reasoning_effort: 'huge' as never,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      message: expect.stringMatching(/^invalid reasoning value: "huge"/),
      type: 'invalid_request_error',
      param: 'reasoning_effort',
    });
  });

  it('should serve /v1/completions with a suffix, streamed and not, with usage when asked', async () => {
    const whole = await openai.completions.create({
      model: CODER,
      prompt: 'def add(a, b):',
      suffix: '\n\nadd(1, 2)',
    });
    expect(whole.object).toBe('text_completion');
    expect(whole.choices[0]?.text.length).toBeGreaterThan(0);
    expect(whole.choices[0]?.finish_reason).toBe('stop');
    expect(whole.usage?.completion_tokens).toBeGreaterThan(0);
    expect(chatBodies(t).at(-1)).toMatchObject({
      path: '/api/generate',
      prompt: 'def add(a, b):',
      suffix: '\n\nadd(1, 2)',
    });
    const stream = await openai.completions.create({
      model: CODER,
      prompt: 'def add(a, b):',
      suffix: '\n\nadd(1, 2)',
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.text ?? '';
    }
    expect(text).toBe(whole.choices[0]?.text);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.total_tokens).toBe(whole.usage?.total_tokens);
    // A model that cannot fill in the middle: Ollama's 400, in OpenAI's shape.
    const refused = await openai.completions
      .create({ model: MODEL, prompt: 'x', suffix: 'y' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as Error).message).toMatch(/does not support insert/);
  });

  it("should run a tool loop with the simulator's thinking model, which accepts the second turn", async () => {
    const question: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'What is the weather in Lisbon?' },
    ];
    const first = await openai.chat.completions
      .stream({ model: THINKER, messages: question, tools: [weatherTool] })
      .finalChatCompletion();
    const choice = first.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const call = choice?.message.tool_calls?.[0];
    if (call?.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(typeof JSON.parse(call.function.arguments)).toBe('object');
    const whole = await openai.chat.completions.create({
      model: THINKER,
      messages: question,
      tools: [weatherTool],
    });
    const reasoning = (whole.choices[0]?.message as { reasoning?: string } | undefined)?.reasoning;
    expect(reasoning?.length).toBeGreaterThan(0);
    const answer = await openai.chat.completions.create({
      model: THINKER,
      messages: [
        ...question,
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '21C and sunny' },
      ],
      tools: [weatherTool],
    });
    expect(answer.choices[0]?.finish_reason).toBe('stop');
    expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(chatBodies(t).at(-1)?.messages).toContainEqual({
      role: 'tool',
      content: '21C and sunny',
      tool_name: 'get_weather',
      tool_call_id: call.id,
    });
  });

  it('should serve a stateless /v1/responses, streamed and not', async () => {
    const whole = await openai.responses.create({
      model: MODEL,
      input: 'Say hello',
      instructions: 'Be brief.',
    });
    expect(whole.status).toBe('completed');
    expect(whole.output_text.length).toBeGreaterThan(0);
    expect(whole.usage?.output_tokens).toBeGreaterThan(0);
    expect(chatBodies(t).at(-1)?.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Say hello' },
    ]);
    const stream = openai.responses.stream({ model: MODEL, input: 'Say hello', instructions: 'Be brief.' });
    let deltas = '';
    stream.on('response.output_text.delta', (event) => {
      deltas += event.delta;
    });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(whole.output_text);
    expect(deltas).toBe(whole.output_text);
    const refused = await openai.responses
      .create({ model: MODEL, input: 'again', previous_response_id: whole.id })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as Error).message).toMatch(/stores no responses/);
  });

  it('should resolve /v1/models/{untagged} like Ollama: the :latest tag, any case', async () => {
    expect(await openai.models.retrieve('llama3.2')).toMatchObject({
      id: 'llama3.2',
      object: 'model',
      owned_by: 'library',
    });
    expect((await openai.models.retrieve('LLAMA3.2:3B')).id).toBe('LLAMA3.2:3B');
    const missing = await openai.models.retrieve('mistral').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as Error).message).toMatch(/model 'mistral:latest' not found/);
  });
});

interface Scripted {
  url: string;
  bodies: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * An Ollama that serves one tool-capable thinking model, streaming what Ollama's ChatHandler
 * streams for it: thinking first, then a tool call (with Ollama's `call_` id and an index) when
 * tools are given and the user spoke last, then a metrics-only final chunk; after a tool result,
 * an answer that quotes it.
 */
async function startScriptedOllama(): Promise<Scripted> {
  const bodies: Array<Record<string, unknown>> = [];
  const created = new Date().toISOString();
  const model = {
    name: THINKER,
    model: THINKER,
    modified_at: created,
    size: 1_000_000,
    digest: 'sha256:0',
    details: {
      format: 'gguf',
      family: 'qwen3',
      families: ['qwen3'],
      parameter_size: '8.2B',
      quantization_level: 'Q4_K_M',
    },
  };
  const json = (res: ServerResponse, body: unknown) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    for await (const part of req) text += part;
    const path = req.url?.split('?')[0];
    if (path === '/api/version') return json(res, { version: '0.12.0' });
    if (path === '/api/tags') return json(res, { models: [model] });
    if (path === '/api/ps')
      return json(res, { models: [{ ...model, expires_at: created, size_vram: 1_000_000 }] });
    if (path === '/api/show')
      return json(res, { details: model.details, capabilities: ['completion', 'tools', 'thinking'] });
    if (path !== '/api/chat') {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ error: `${path} not scripted` }));
    }
    const body = JSON.parse(text) as {
      messages: Array<{ role: string; content?: string }>;
      tools?: Array<{ function: { name: string } }>;
      think?: unknown;
    };
    bodies.push(body as unknown as Record<string, unknown>);
    const last = body.messages.at(-1);
    const chunk = (message: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      `${JSON.stringify({ model: THINKER, created_at: new Date().toISOString(), message: { role: 'assistant', content: '', ...message }, done: false, ...extra })}\n`;
    const lines: string[] = [];
    if (body.think !== false)
      lines.push(chunk({ thinking: 'The user wants ' }), chunk({ thinking: 'the weather.' }));
    if (body.tools !== undefined && last?.role === 'user') {
      const name = body.tools[0]?.function.name ?? '';
      lines.push(
        chunk({
          tool_calls: [{ id: 'call_s1x2y3z4', function: { index: 0, name, arguments: { city: 'Lisbon' } } }],
        }),
      );
    } else {
      lines.push(chunk({ content: 'It is ' }), chunk({ content: last?.content ?? '' }));
    }
    lines.push(
      chunk(
        {},
        {
          done: true,
          done_reason: 'stop',
          total_duration: 1,
          prompt_eval_count: 20,
          eval_count: 10,
          eval_duration: 1,
        },
      ),
    );
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    for (const line of lines) res.write(line);
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('openai api: tool calls and thinking, through the openai client', () => {
  let backend: Scripted;
  let t: TestNode;
  let openai: OpenAI;

  beforeAll(async () => {
    backend = await startScriptedOllama();
    t = await startTestNode({ name: 'carol', sim: false, ollamaUrl: backend.url });
    await waitFor(() => t.node.backend.health().state === 'up', 10_000, 'the scripted Ollama to be up');
    openai = new OpenAI({ baseURL: `${t.node.url}/v1`, apiKey: 'unused-on-loopback', maxRetries: 0 });
  });
  afterAll(async () => {
    await t?.teardown();
    await backend?.close();
  });

  it('should run a streamed tool loop over two turns: finish_reason tool_calls, then the answer', async () => {
    const question: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'What is the weather in Lisbon?' },
    ];
    const first = await openai.chat.completions.create({
      model: THINKER,
      messages: question,
      tools: [weatherTool],
      stream: true,
    });
    let reasoning = '';
    const finishes: Array<string | null> = [];
    const calls: Array<{ id?: string; index: number; function?: { name?: string; arguments?: string } }> = [];
    for await (const chunk of first) {
      const choice = chunk.choices[0];
      reasoning += (choice?.delta as { reasoning?: string } | undefined)?.reasoning ?? '';
      calls.push(...(choice?.delta.tool_calls ?? []));
      if (choice?.finish_reason) finishes.push(choice.finish_reason);
    }
    expect(reasoning).toBe('The user wants the weather.');
    expect(finishes).toEqual(['tool_calls']);
    expect(calls).toEqual([
      {
        id: 'call_s1x2y3z4',
        index: 0,
        type: 'function',
        function: { name: 'get_weather', arguments: '{"city":"Lisbon"}' },
      },
    ]);
    const call = calls[0]!;
    const answer = await openai.chat.completions.create({
      model: THINKER,
      messages: [
        ...question,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: call.id!,
              type: 'function',
              function: { name: call.function!.name!, arguments: call.function!.arguments! },
            },
          ],
        },
        { role: 'tool', tool_call_id: call.id!, content: '21C and sunny' },
      ],
      tools: [weatherTool],
      reasoning_effort: 'none',
    });
    expect(answer.choices[0]).toMatchObject({
      finish_reason: 'stop',
      message: { content: 'It is 21C and sunny' },
    });
    expect(backend.bodies.at(-1)).toMatchObject({
      think: false,
      messages: [
        question[0],
        {
          role: 'assistant',
          tool_calls: [{ id: call.id, function: { name: 'get_weather', arguments: { city: 'Lisbon' } } }],
        },
        { role: 'tool', content: '21C and sunny', tool_name: 'get_weather', tool_call_id: call.id },
      ],
    });
  });

  it('should give a whole answer its reasoning and tool calls, with finish_reason tool_calls', async () => {
    const whole = await openai.chat.completions.create({
      model: THINKER,
      messages: [{ role: 'user', content: 'Weather?' }],
      tools: [weatherTool],
    });
    expect(whole.choices[0]).toMatchObject({
      finish_reason: 'tool_calls',
      message: {
        reasoning: 'The user wants the weather.',
        tool_calls: [
          {
            id: 'call_s1x2y3z4',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Lisbon"}' },
          },
        ],
      },
    });
    // The SDK's own stream helper assembles the same answer from the chunks.
    const assembled = await openai.chat.completions
      .stream({ model: THINKER, messages: [{ role: 'user', content: 'Weather?' }], tools: [weatherTool] })
      .finalChatCompletion();
    expect(assembled.choices[0]?.finish_reason).toBe('tool_calls');
    const withoutIndex = (calls: unknown[] | undefined) =>
      calls?.map((c) => ({ ...(c as Record<string, unknown>), index: undefined }));
    expect(withoutIndex(assembled.choices[0]?.message.tool_calls)).toEqual(
      withoutIndex(whole.choices[0]?.message.tool_calls),
    );
  });

  it('should run a tool loop through /v1/responses, streamed and not', async () => {
    const tools = [
      {
        type: 'function' as const,
        name: 'get_weather',
        strict: true,
        parameters: weatherTool.function.parameters ?? {},
      },
    ];
    const input: ResponseInputItem[] = [{ role: 'user', content: 'What is the weather in Lisbon?' }];
    const streamed = await openai.responses.stream({ model: THINKER, input, tools }).finalResponse();
    expect(streamed.output.map((item) => item.type)).toEqual(['reasoning', 'function_call']);
    const call = streamed.output[1];
    expect(call).toMatchObject({
      type: 'function_call',
      name: 'get_weather',
      arguments: '{"city":"Lisbon"}',
    });
    const whole = await openai.responses.create({ model: THINKER, input, tools });
    expect(whole.output.map((item) => item.type)).toEqual(['reasoning', 'function_call']);
    if (call?.type !== 'function_call') throw new Error('expected a function call');
    const answer = await openai.responses.create({
      model: THINKER,
      tools,
      input: [
        ...input,
        ...streamed.output.map((item) => item as ResponseInputItem),
        { type: 'function_call_output', call_id: call.call_id, output: '21C and sunny' },
      ],
    });
    expect(answer.output_text).toBe('It is 21C and sunny');
    expect(backend.bodies.at(-1)?.messages).toEqual([
      { role: 'user', content: 'What is the weather in Lisbon?' },
      {
        role: 'assistant',
        content: '',
        thinking: 'The user wants the weather.',
        tool_calls: [{ id: call.call_id, function: { name: 'get_weather', arguments: { city: 'Lisbon' } } }],
      },
      { role: 'tool', content: '21C and sunny', tool_call_id: call.call_id, tool_name: 'get_weather' },
    ]);
  });
});

describe('openai api: the tool loop when a peer serves it', () => {
  let alice: TestNode;
  let bob: TestNode;
  let openai: OpenAI;

  beforeAll(async () => {
    // Alice has no chat model: every chat goes to bob.
    alice = await startTestNode({ name: 'alice', sim: { profile: 'fast', models: ['all-minilm:latest'] } });
    bob = await startTestNode({
      name: 'bob',
      sim: { profile: 'fast', models: [MODEL], recordRequests: true },
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    });
    await waitFor(
      () =>
        alice.node.mesh
          .peers()
          .some((p) => p.name === 'bob' && p.status === 'online' && p.models.includes(MODEL)),
      30_000,
      'alice to see bob with the model',
    );
    openai = new OpenAI({ baseURL: `${alice.node.url}/v1`, apiKey: 'unused-on-loopback', maxRetries: 0 });
  }, 60_000);
  afterAll(async () => {
    await bob?.teardown();
    await alice?.teardown();
  });

  it('should answer the second turn from the peer, which gets what its Ollama accepts', async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: MODEL, messages: secondTurn, tools: [weatherTool] })
      .withResponse();
    expect(response.headers.get('x-allerac-node')).toBe('bob');
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expectSecondTurnAsOllamaTakesIt(chatBodies(bob).at(-1));
  });

  it("should answer a request the peer's Ollama refuses with a 4xx in each API's shape, never a 500", async () => {
    // The simulated model cannot think: Ollama refuses `think` for it with a 400.
    const openaiError = await openai.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'high' })
      .catch((e: unknown) => e);
    expect(openaiError).toBeInstanceOf(OpenAI.BadRequestError);
    expect((openaiError as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      message: expect.stringMatching(/does not support thinking/),
      type: 'invalid_request_error',
    });
    const ollama = await fetch(`${alice.node.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], think: true }),
    });
    expect(ollama.status).toBe(400);
    expect(await ollama.json()).toEqual({ error: expect.stringMatching(/does not support thinking/) });
  });
});
