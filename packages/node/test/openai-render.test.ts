import { describe, expect, it } from 'vitest';
import {
  ChatChunkStream,
  namespaceOf,
  readChatResponse,
  readGenerateResponse,
  toChatCompletion,
  toCompletion,
  toCompletionChunks,
  toOpenAiModel,
  toToolCalls,
} from '../src/http/openai-render.js';

const MODEL = 'qwen3:8b';
const T0 = '2025-03-01T10:00:00.123456789Z';
const T0_UNIX = Math.floor(Date.parse('2025-03-01T10:00:00Z') / 1000);

/** Ollama /api/chat chunks, as its server streams them. */
const chunk = (message: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  model: MODEL,
  created_at: T0,
  message: { role: 'assistant', content: '', ...message },
  done: false,
  ...extra,
});
const final = (extra: Record<string, unknown> = {}) =>
  chunk({}, { done: true, done_reason: 'stop', prompt_eval_count: 12, eval_count: 30, ...extra });
const weatherCall = {
  id: 'call_abc12345',
  function: { index: 0, name: 'get_weather', arguments: { city: 'Lisbon' } },
};

/** Runs chunks through one stream; returns every OpenAI chunk. */
function streamOf(chunks: Record<string, unknown>[], includeUsage = false) {
  const stream = new ChatChunkStream('chatcmpl-1', MODEL, includeUsage);
  return chunks.flatMap((c) => stream.render(c, c.done === true ? { node: 'bob', failovers: 0 } : undefined));
}
const deltas = (chunks: Record<string, unknown>[]) =>
  chunks.flatMap((c) => (c.choices as Array<{ delta: unknown; finish_reason: unknown }>) ?? []);

describe('openai-render: chat stream chunks', () => {
  it('should end a streamed tool call with finish_reason tool_calls, the arguments a JSON string', () => {
    const out = streamOf([chunk({ tool_calls: [weatherCall] }), final()]);
    expect(deltas(out)).toEqual([
      {
        index: 0,
        delta: {
          role: 'assistant',
          content: '',
          tool_calls: [
            {
              id: 'call_abc12345',
              index: 0,
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Lisbon"}' },
            },
          ],
        },
        finish_reason: null,
      },
      // The metrics-only trailer adds no empty delta; the finish has a chunk of its own.
      { index: 0, delta: {}, finish_reason: 'tool_calls' },
    ]);
    expect(out.at(-1)?.allerac).toEqual({ node: 'bob', failovers: 0 });
  });

  it('should keep length as length even after a tool call, and stop when there was none', () => {
    expect(
      deltas(streamOf([chunk({ tool_calls: [weatherCall] }), final({ done_reason: 'length' })])).at(-1),
    ).toMatchObject({ finish_reason: 'length' });
    expect(deltas(streamOf([chunk({ content: 'hi' }), final()])).at(-1)).toMatchObject({
      finish_reason: 'stop',
    });
    expect(deltas(streamOf([chunk({ content: 'hi' }), final({ done_reason: '' })])).at(-1)).toMatchObject({
      finish_reason: 'stop',
    });
  });

  it('should send thinking as reasoning, in its own delta when content comes with it', () => {
    const out = deltas(
      streamOf([
        chunk({ thinking: 'hmm' }),
        chunk({ thinking: ' so', content: 'Yes' }),
        chunk({ content: '.' }),
        final(),
      ]),
    );
    expect(out.map((c) => c.delta)).toEqual([
      { role: 'assistant', content: '', reasoning: 'hmm' },
      { reasoning: ' so' },
      { content: 'Yes' },
      { content: '.' },
      {},
    ]);
  });

  it('should give the role on the first delta only, one created and id for all, and usage last when asked', () => {
    const out = streamOf(
      [chunk({ content: 'a' }), chunk({ content: 'b' }, { created_at: '2025-03-01T10:00:09Z' }), final()],
      true,
    );
    expect(out.map((c) => c.created)).toEqual([T0_UNIX, T0_UNIX, T0_UNIX, T0_UNIX]);
    expect(new Set(out.map((c) => c.id))).toEqual(new Set(['chatcmpl-1']));
    expect(out.every((c) => c.object === 'chat.completion.chunk' && c.model === MODEL)).toBe(true);
    expect(out.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 },
    });
    expect(out.slice(0, -1).some((c) => 'usage' in c)).toBe(false);
  });

  it('should open a wholly empty answer with a role chunk, and number calls that came without an index', () => {
    expect(deltas(streamOf([final()])).map((c) => c.delta)).toEqual([{ role: 'assistant', content: '' }, {}]);
    const bare = { function: { name: 'f', arguments: {} } };
    const out = deltas(
      streamOf([chunk({ tool_calls: [bare, bare] }), chunk({ tool_calls: [bare] }), final()]),
    );
    const calls = out.flatMap(
      (c) => (c.delta as { tool_calls?: Array<{ id: string; index: number }> }).tool_calls ?? [],
    );
    expect(calls.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(calls.every((c) => /^call_[a-z0-9]{8}$/.test(c.id))).toBe(true);
  });
});

describe('openai-render: whole answers', () => {
  it('should render a chat completion with reasoning and tool calls', () => {
    const r = readChatResponse(
      final({
        message: { role: 'assistant', content: '', thinking: 'need weather', tool_calls: [weatherCall] },
      }),
    );
    expect(toChatCompletion('chatcmpl-2', MODEL, r, { node: 'alice', failovers: 1 })).toEqual({
      id: 'chatcmpl-2',
      object: 'chat.completion',
      created: T0_UNIX,
      model: MODEL,
      system_fingerprint: 'fp_ollama',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: '',
            reasoning: 'need weather',
            tool_calls: toToolCalls([weatherCall]),
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 },
      allerac: { node: 'alice', failovers: 1 },
    });
  });

  it('should render a completion and its stream, usage zero until the last chunk', () => {
    const done = {
      model: MODEL,
      created_at: T0,
      response: '',
      done: true,
      done_reason: 'stop',
      prompt_eval_count: 3,
      eval_count: 4,
    };
    expect(toCompletion('cmpl-1', MODEL, { ...readGenerateResponse(done), response: 'a + b' })).toMatchObject(
      {
        object: 'text_completion',
        created: T0_UNIX,
        choices: [{ text: 'a + b', index: 0, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
      },
    );
    const first = toCompletionChunks('cmpl-1', MODEL, { model: MODEL, response: 'a', done: false }, true);
    expect(first).toEqual([
      expect.objectContaining({
        object: 'text_completion',
        choices: [{ text: 'a', index: 0, finish_reason: null }],
        usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      }),
    ]);
    const last = toCompletionChunks('cmpl-1', MODEL, done, true, { node: 'alice', failovers: 0 });
    expect(last).toHaveLength(2);
    expect(last[0]).toMatchObject({ choices: [{ finish_reason: 'stop' }], allerac: { node: 'alice' } });
    expect(last[1]).toMatchObject({ choices: [], usage: { total_tokens: 7 } });
  });

  it('should name a model owner from its namespace, as Ollama does', () => {
    expect(namespaceOf('llama3.2:latest')).toBe('library');
    expect(namespaceOf('jmorgan/tiny:1b')).toBe('jmorgan');
    expect(namespaceOf('hf.co/bartowski/Llama-3.2-1B-GGUF:Q4_K_M')).toBe('bartowski');
    expect(namespaceOf('localhost:5000/team/model')).toBe('team');
    expect(toOpenAiModel('llama3.2', T0)).toEqual({
      id: 'llama3.2',
      object: 'model',
      created: T0_UNIX,
      owned_by: 'library',
    });
  });
});
