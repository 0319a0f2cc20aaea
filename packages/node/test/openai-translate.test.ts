import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';
import type { ChatCompletionRequest } from '../src/http/openai-schemas.js';
import {
  decodeImageUrl,
  fromChatRequest,
  fromCompletionRequest,
  thinkFromReasoningEffort,
} from '../src/http/openai-translate.js';

const MODEL = 'llama3.2:3b';
const PNG = 'iVBORw0KGgo=';

/** The second turn of a tool loop, as the openai client sends it. */
const secondTurn = (args: string): ChatCompletionRequest => ({
  model: MODEL,
  messages: [
    { role: 'user', content: 'Weather in Lisbon?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: args } },
        { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_a', content: '21C and sunny' },
    { role: 'tool', tool_call_id: 'call_b', content: '10:00' },
  ],
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

describe('openai-translate: chat requests in Ollama shape', () => {
  it('should parse tool-call arguments from their string and name each tool result by its call id', () => {
    const request = fromChatRequest(secondTurn('{"city":"Lisbon","days":2}'));
    expect(request.messages).toEqual([
      { role: 'user', content: 'Weather in Lisbon?' },
      {
        role: 'assistant',
        tool_calls: [
          { id: 'call_a', function: { name: 'get_weather', arguments: { city: 'Lisbon', days: 2 } } },
          { id: 'call_b', function: { name: 'get_time', arguments: {} } },
        ],
      },
      { role: 'tool', content: '21C and sunny', tool_name: 'get_weather', tool_call_id: 'call_a' },
      { role: 'tool', content: '10:00', tool_name: 'get_time', tool_call_id: 'call_b' },
    ]);
  });

  it('should prefer the name a tool message gives, and take the last call of a repeated id', () => {
    const body = secondTurn('{}');
    body.messages?.push(
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'later', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'call_a', content: 'x' },
      { role: 'tool', tool_call_id: 'call_a', name: 'given', content: 'y' },
    );
    const messages = fromChatRequest(body).messages as Array<{ tool_name?: string }>;
    expect(messages.at(-2)?.tool_name).toBe('later');
    expect(messages.at(-1)?.tool_name).toBe('given');
  });

  it('should refuse arguments that are not a JSON object with a 400 naming the field', () => {
    for (const args of ['not json', '[1,2]', '"text"', '7']) {
      const error = invalid(() => fromChatRequest(secondTurn(args)));
      expect(error.message).toBe('invalid tool call arguments');
      expect(error.param).toBe('messages[1].tool_calls[0].function.arguments');
    }
  });

  it('should map the sampling fields to options, with OpenAI defaults for temperature and top_p', () => {
    const base = { model: MODEL, messages: [{ role: 'user', content: 'hi' }] };
    expect(fromChatRequest(base).options).toEqual({ temperature: 1, top_p: 1 });
    const request = fromChatRequest({
      ...base,
      max_tokens: 10,
      max_completion_tokens: 20,
      stop: 'END',
      seed: 42,
      temperature: 0.2,
      top_p: 0.9,
      frequency_penalty: 0.5,
      presence_penalty: -0.5,
    });
    expect(request.options).toEqual({
      num_predict: 20,
      stop: ['END'],
      seed: 42,
      temperature: 0.2,
      top_p: 0.9,
      frequency_penalty: 0.5,
      presence_penalty: -0.5,
    });
    expect(fromChatRequest({ ...base, max_tokens: 7, stop: ['a', 'b'] }).options).toMatchObject({
      num_predict: 7,
      stop: ['a', 'b'],
    });
  });

  it('should map reasoning effort to think, reasoning.effort first, clamping the ends of the scale', () => {
    const base = { model: MODEL, messages: [{ role: 'user', content: 'hi' }] };
    expect(fromChatRequest(base).think).toBeUndefined();
    expect(fromChatRequest({ ...base, reasoning_effort: 'high' }).think).toBe('high');
    expect(fromChatRequest({ ...base, reasoning_effort: 'none' }).think).toBe(false);
    expect(
      fromChatRequest({ ...base, reasoning: { effort: 'minimal' }, reasoning_effort: 'high' }).think,
    ).toBe('low');
    // An object without an effort still wins, and leaves the model's default.
    expect(fromChatRequest({ ...base, reasoning: {}, reasoning_effort: 'high' }).think).toBeUndefined();
    expect(thinkFromReasoningEffort('xhigh', 'x')).toBe('max');
    expect(thinkFromReasoningEffort('ultra', 'x')).toBe('max');
    const error = invalid(() => fromChatRequest({ ...base, reasoning_effort: 'extreme' }));
    expect(error.message).toMatch(/^invalid reasoning value: "extreme"/);
    expect(error.param).toBe('reasoning_effort');
  });

  it('should pass the assistant reasoning back as thinking, with tools, format and logprobs', () => {
    const tools = [
      { type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } },
    ];
    const request = fromChatRequest({
      model: MODEL,
      messages: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a', reasoning: 'because' },
        { role: 'developer', content: 'be brief' },
      ],
      tools,
      response_format: { type: ' JSON_Object ' },
      logprobs: true,
      top_logprobs: 3,
      stream: true,
    });
    expect(request.messages).toEqual([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'a', thinking: 'because' },
      { role: 'developer', content: 'be brief' },
    ]);
    expect(request).toMatchObject({ tools, format: 'json', logprobs: true, top_logprobs: 3, stream: true });
    const schema = { type: 'object', properties: { a: { type: 'string' } } };
    expect(
      fromChatRequest({
        model: MODEL,
        messages: [{ role: 'user', content: 'q' }],
        response_format: { type: 'json_schema', json_schema: { schema } },
      }).format,
    ).toEqual(schema);
  });

  it('should split a list of parts into one message per part, tool calls on the last', () => {
    const request = fromChatRequest({
      model: MODEL,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            { type: 'image_url', image_url: `data:;base64,${PNG}` },
          ],
        },
        {
          role: 'assistant',
          content: [{ type: 'text', text: 'let me look' }],
          tool_calls: [{ id: 'c', type: 'function', function: { name: 'zoom', arguments: '{"x":1}' } }],
        },
      ],
    });
    expect(request.messages).toEqual([
      { role: 'user', content: 'what is this?' },
      { role: 'user', images: [PNG] },
      { role: 'user', images: [PNG] },
      {
        role: 'assistant',
        content: 'let me look',
        tool_calls: [{ id: 'c', function: { name: 'zoom', arguments: { x: 1 } } }],
      },
    ]);
  });

  it('should refuse remote images, unknown image types and broken base64 as Ollama does', () => {
    expect(invalid(() => decodeImageUrl('https://example.com/cat.png', 'p')).message).toBe(
      'image URLs are not currently supported, please use base64 encoded data instead',
    );
    expect(invalid(() => decodeImageUrl(`data:image/gif;base64,${PNG}`, 'p')).message).toBe(
      'invalid image input',
    );
    expect(invalid(() => decodeImageUrl('data:image/png;base64,abc', 'p')).message).toBe(
      'invalid image input',
    );
    expect(decodeImageUrl(`data:image/jpeg;base64,${PNG.slice(0, 4)}\r\n${PNG.slice(4)}`, 'p')).toBe(PNG);
  });

  it('should refuse a message with neither content nor tool calls, and unknown part types', () => {
    const error = invalid(() => fromChatRequest({ model: MODEL, messages: [{ role: 'user' }] }));
    expect(error.message).toBe('invalid message content type: <nil>');
    const part = invalid(() =>
      fromChatRequest({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'video' }] }] }),
    );
    expect(part.message).toBe('invalid message format');
    expect(invalid(() => fromChatRequest({ model: MODEL, messages: [] })).message).toBe(
      'messages must be a non-empty array',
    );
  });

  it('should carry Allerac options through for the gateway', () => {
    const request = fromChatRequest({
      model: MODEL,
      messages: [{ role: 'user', content: 'q' }],
      allerac: { policy: 'local-first' },
    });
    expect(request.allerac).toEqual({ policy: 'local-first' });
  });
});

describe('openai-translate: completions in Ollama shape', () => {
  it('should map a completion with suffix to a generate request, with Ollama defaults', () => {
    expect(
      fromCompletionRequest({ model: MODEL, prompt: 'def add(a, b):', suffix: '\n\nprint(add(1, 2))' }),
    ).toEqual({
      model: MODEL,
      prompt: 'def add(a, b):',
      suffix: '\n\nprint(add(1, 2))',
      stream: false,
      options: { temperature: 1, top_p: 1, frequency_penalty: 0, presence_penalty: 0 },
    });
  });

  it('should map the sampling fields and logprobs', () => {
    const request = fromCompletionRequest({
      model: MODEL,
      prompt: 'x',
      max_tokens: 5,
      stop: ['\n'],
      seed: 1,
      temperature: 0,
      top_p: 0,
      frequency_penalty: 1,
      presence_penalty: 2,
      logprobs: 2,
      stream: true,
    });
    expect(request).toMatchObject({ stream: true, logprobs: true, top_logprobs: 2 });
    // top_p 0 is Go's zero value: Ollama sends OpenAI's default instead.
    expect(request.options).toEqual({
      num_predict: 5,
      stop: ['\n'],
      seed: 1,
      temperature: 0,
      top_p: 1,
      frequency_penalty: 1,
      presence_penalty: 2,
    });
  });
});
