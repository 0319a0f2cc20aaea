import { accumulateResponse } from 'openai/lib/responses/ResponseAccumulator.js';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses.js';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';
import { HttpError } from '../src/http/errors.js';
import {
  ResponsesStreamConverter,
  type ResponsesStreamEvent,
  toResponse,
} from '../src/http/openai-responses-render.js';
import { fromResponsesRequest } from '../src/http/openai-responses-request.js';
import type { ResponsesRequest } from '../src/http/openai-schemas.js';

const MODEL = 'qwen3:8b';
const PNG = 'iVBORw0KGgo=';

const chunk = (message: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  created_at: '2025-03-01T10:00:00Z',
  message: { role: 'assistant', content: '', ...message },
  done: false,
  ...extra,
});
const final = (extra: Record<string, unknown> = {}) =>
  chunk({}, { done: true, done_reason: 'stop', prompt_eval_count: 5, eval_count: 9, ...extra });
const call = (name: string, args: Record<string, unknown>, id = `call_${name}`) => ({
  id,
  function: { name, arguments: args },
});

function invalid(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError');
}

describe('openai-responses: requests in Ollama shape', () => {
  it('should take a string input with instructions, options and reasoning effort', () => {
    expect(
      fromResponsesRequest({
        model: MODEL,
        input: 'hi',
        instructions: 'be brief',
        max_output_tokens: 50,
        temperature: 0.3,
        reasoning: { effort: 'xhigh' },
        stream: true,
      }),
    ).toEqual({
      model: MODEL,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi' },
      ],
      // top_p is left to the model unless sent.
      options: { temperature: 0.3, num_predict: 50 },
      think: 'max',
      stream: true,
    });
  });

  it('should turn a replayed tool loop into chat messages: calls on the assistant, results named', () => {
    const request = fromResponsesRequest({
      model: MODEL,
      input: [
        { role: 'user', content: 'Weather in Lisbon and Porto?' },
        { type: 'reasoning', summary: [], encrypted_content: 'two cities' },
        { type: 'function_call', call_id: 'c1', name: 'get_weather', arguments: '{"city":"Lisbon"}' },
        { type: 'function_call', call_id: 'c2', name: 'get_weather', arguments: '{"city":"Porto"}' },
        { type: 'function_call_output', call_id: 'c1', output: '21C' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: '18C' }] },
        {
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Lisbon 21C, Porto 18C.' }],
        },
        {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_image', detail: 'auto', image_url: `data:image/png;base64,${PNG}` }],
        },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'user', content: 'Weather in Lisbon and Porto?' },
      {
        role: 'assistant',
        content: '',
        thinking: 'two cities',
        tool_calls: [
          { id: 'c1', function: { name: 'get_weather', arguments: { city: 'Lisbon' } } },
          { id: 'c2', function: { name: 'get_weather', arguments: { city: 'Porto' } } },
        ],
      },
      { role: 'tool', content: '21C', tool_call_id: 'c1', tool_name: 'get_weather' },
      { role: 'tool', content: '18C', tool_call_id: 'c2', tool_name: 'get_weather' },
      { role: 'assistant', content: 'Lisbon 21C, Porto 18C.' },
      { role: 'user', content: '', images: [PNG] },
    ]);
  });

  it('should merge an assistant message replayed between a call and its output into the call', () => {
    const request = fromResponsesRequest({
      model: MODEL,
      input: [
        { role: 'user', content: 'q' },
        { type: 'function_call', call_id: 'c1', name: 'f', arguments: '' },
        { type: 'message', role: 'assistant', content: 'calling f' },
        { type: 'function_call_output', call_id: 'c1', output: 'done' },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: 'calling f',
        tool_calls: [{ id: 'c1', function: { name: 'f', arguments: {} } }],
      },
      { role: 'tool', content: 'done', tool_call_id: 'c1', tool_name: 'f' },
    ]);
  });

  it('should flatten tools to Ollama functions, a namespace to qualified names, and map text.format', () => {
    const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const request = fromResponsesRequest({
      model: MODEL,
      input: 'q',
      tools: [
        { type: 'function', name: 'get_weather', description: 'Weather now', strict: true, parameters },
        {
          type: 'namespace',
          name: 'files',
          tools: [
            { type: 'function', name: 'read' },
            { type: 'function', name: 'files.write' },
          ],
        },
      ],
      text: { format: { type: 'json_schema', name: 'x', schema: { type: 'object' } } },
    });
    expect(request.tools).toEqual([
      { type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters } },
      { type: 'function', function: { name: 'files.read', description: '' } },
      { type: 'function', function: { name: 'files.write', description: '' } },
    ]);
    expect(request.format).toEqual({ type: 'object' });
  });

  it('should refuse what a stateless node without internet cannot do, and bad items, naming the field', () => {
    const cases: Array<[ResponsesRequest, RegExp, string]> = [
      [
        { model: MODEL, input: 'q', previous_response_id: 'resp_1' },
        /stores no responses/,
        'previous_response_id',
      ],
      [{ model: MODEL, input: 'q', conversation: 'conv_1' }, /stores no conversations/, 'conversation'],
      [{ model: MODEL, input: 'q', background: true }, /background/, 'background'],
      [{ model: MODEL, input: 'q', tools: [{ type: 'web_search' }] }, /web_search/, 'tools[0].type'],
      [
        { model: MODEL, input: [{ content: 'x' }] },
        /input\[0\]: input item missing required 'type' field/,
        'input[0].type',
      ],
      [
        { model: MODEL, input: [{ type: 'telepathy' }] },
        /unknown input item type: "telepathy"/,
        'input[0].type',
      ],
      [
        { model: MODEL, input: [{ role: 'user', content: [{ type: 'input_file', file_data: 'x' }] }] },
        /file inputs are not currently supported/,
        'input[0].content[0]',
      ],
      [
        { model: MODEL, input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '[1]' }] },
        /failed to parse function call arguments/,
        'input[0].arguments',
      ],
      [
        { model: MODEL, input: 'q', reasoning: { effort: 'huge' } },
        /invalid reasoning value/,
        'reasoning.effort',
      ],
    ];
    for (const [body, message, param] of cases) {
      const error = invalid(() => fromResponsesRequest(body));
      expect(error.message).toMatch(message);
      expect(error.param).toBe(param);
    }
  });
});

/** Runs chunks through a converter, and the events through the official SDK's accumulator. */
function streamOf(chunks: Record<string, unknown>[], request: ResponsesRequest = { model: MODEL }) {
  const converter = new ResponsesStreamConverter('resp_1', MODEL, request);
  const events = chunks.flatMap((c) =>
    converter.process(c, c.done === true ? { node: 'bob', failovers: 0 } : undefined),
  );
  let snapshot: ReturnType<typeof accumulateResponse> | undefined;
  for (const { data } of events)
    snapshot = accumulateResponse(data as unknown as ResponseStreamEvent, snapshot);
  return { events, snapshot };
}
const names = (events: ResponsesStreamEvent[]) => events.map((e) => e.event);

describe('openai-responses: stream events', () => {
  it('should stream text with OpenAI event names, numbered, each event named in its data', () => {
    const { events, snapshot } = streamOf([chunk({ content: 'Hel' }), chunk({ content: 'lo' }), final()]);
    expect(names(events)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.data.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.every((e) => e.data.type === e.event)).toBe(true);
    const completed = events.at(-1)?.data.response as Record<string, unknown>;
    expect(completed).toMatchObject({
      id: 'resp_1',
      object: 'response',
      status: 'completed',
      model: MODEL,
      usage: { input_tokens: 5, output_tokens: 9, total_tokens: 14 },
      allerac: { node: 'bob', failovers: 0 },
    });
    expect(snapshot?.output).toEqual(completed.output);
    expect(snapshot?.output_text).toBe('Hello');
  });

  it('should stream reasoning, then text, then function calls, each item closed before the next', () => {
    const { events, snapshot } = streamOf([
      chunk({ thinking: 'need ' }),
      chunk({ thinking: 'weather' }),
      chunk({ content: 'Checking.' }),
      chunk({ tool_calls: [call('get_weather', { city: 'Lisbon' })] }),
      final(),
    ]);
    expect(names(events).slice(2)).toEqual([
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const output = snapshot?.output ?? [];
    expect(output.map((item) => item.type)).toEqual(['reasoning', 'message', 'function_call']);
    expect(output[0]).toMatchObject({ summary: [{ type: 'summary_text', text: 'need weather' }] });
    expect(output[2]).toMatchObject({
      type: 'function_call',
      call_id: 'call_get_weather',
      name: 'get_weather',
      arguments: '{"city":"Lisbon"}',
    });
    expect(events.at(-1)?.data.response).toMatchObject({ output });
  });

  it('should end a stream cut at its token limit as incomplete', () => {
    const { events, snapshot } = streamOf([chunk({ content: 'a' }), final({ done_reason: 'length' })]);
    expect(events.at(-1)?.event).toBe('response.incomplete');
    expect(snapshot).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
    });
  });

  it('should end a broken stream with response.failed, carrying the error', () => {
    const converter = new ResponsesStreamConverter('resp_1', MODEL, { model: MODEL });
    const before = converter.process(chunk({ content: 'a' }));
    const failed = converter.failed(new HttpError(502, 'the peer went away'));
    expect(failed.map((e) => e.event)).toEqual(['response.failed']);
    expect(failed[0]?.data).toMatchObject({
      sequence_number: before.length,
      response: { status: 'failed', error: { code: 'server_error', message: 'the peer went away' } },
    });
  });

  it('should echo the request in the response object with OpenAI defaults', () => {
    const request: ResponsesRequest = {
      model: MODEL,
      instructions: 'be brief',
      tools: [{ type: 'function', name: 'f' }],
      reasoning: { effort: 'low' },
      max_output_tokens: 20,
    };
    const response = streamOf([final()], request).events.at(-1)?.data.response;
    expect(response).toMatchObject({
      instructions: 'be brief',
      tools: [{ type: 'function', name: 'f', description: null, strict: null, parameters: null }],
      reasoning: { effort: 'low', summary: null },
      max_output_tokens: 20,
      temperature: 1,
      top_p: 1,
      truncation: 'disabled',
      text: { format: { type: 'text' } },
      store: false,
    });
  });
});

describe('openai-responses: whole answers', () => {
  it('should render reasoning, text and function calls as output items', () => {
    const response = toResponse(
      'resp_2',
      'msg_2',
      MODEL,
      final({
        message: {
          role: 'assistant',
          content: 'Checking.',
          thinking: 'weather',
          tool_calls: [call('get_weather', { city: 'Lisbon' })],
        },
      }),
      { model: MODEL },
      { node: 'alice', failovers: 0 },
    );
    expect(response).toMatchObject({
      id: 'resp_2',
      object: 'response',
      status: 'completed',
      output: [
        { id: 'rs_resp_2', type: 'reasoning', summary: [{ type: 'summary_text', text: 'weather' }] },
        {
          id: 'msg_2',
          type: 'message',
          role: 'assistant',
          content: [{ type: 'output_text', text: 'Checking.' }],
        },
        {
          id: 'fc_resp_2_0',
          type: 'function_call',
          call_id: 'call_get_weather',
          arguments: '{"city":"Lisbon"}',
        },
      ],
      usage: { input_tokens: 5, output_tokens: 9, total_tokens: 14 },
      allerac: { node: 'alice', failovers: 0 },
    });
    expect(typeof response.completed_at).toBe('number');
  });
});
