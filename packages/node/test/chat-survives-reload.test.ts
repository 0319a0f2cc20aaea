/**
 * Issue #14, "Chat": an answer asked for from the web UI keeps being generated and recorded when
 * the page goes away, a page that comes back follows it (/live), and stop marks it stopped. Any
 * other client's answer is still cancelled when that client leaves.
 */
import { expectedAnswer, PROFILES } from '@allerac/ollama-sim';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiveAnswerEvent } from '../src/contract/conversation.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const MODEL = 'llama3.2:3b';
/** About two seconds of answer: long enough to leave, come back and stop in the middle. */
const TOKENS = 60;
const SLOW = { ...PROFILES.fast!, name: 'slow', tokensPerSecond: 30 };

describe('a chat from the web UI outlives its page', () => {
  let t: TestNode;
  let session: Record<string, string>;

  beforeAll(async () => {
    t = await startTestNode({ name: 'alice', sim: { profile: SLOW, models: [MODEL] } });
    const setup = await fetch(`${t.node.url}/auth/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ana', password: 'correct horse battery' }),
    });
    expect(setup.status).toBe(201);
    const pairs = setup.headers.getSetCookie().map((c) => c.split(';')[0]!);
    const csrf = pairs.find((p) => p.startsWith('allerac_csrf='))!.split('=')[1]!;
    session = { cookie: pairs.join('; '), 'x-csrf-token': csrf };
  });

  afterAll(async () => {
    await t?.teardown();
  });

  const messagesOf = async (id: string) => {
    const response = await fetch(`${t.node.url}/allerac/v1/conversations/${id}/messages`, {
      headers: session,
    });
    return response.status === 200
      ? (
          (await response.json()) as {
            messages: Array<{
              role: string;
              content: string;
              status: string;
              metadata: Record<string, unknown>;
            }>;
          }
        ).messages
      : [];
  };

  /** Starts a streamed chat and returns once its first chunk arrived, with a way to leave. */
  const startChat = async (content: string, headers: Record<string, string>) => {
    const controller = new AbortController();
    const messages = [{ role: 'user', content }];
    const response = await fetch(`${t.node.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: MODEL, messages, options: { num_predict: TOKENS } }),
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    return {
      id: response.headers.get('x-allerac-conversation')!,
      expected: expectedAnswer(MODEL, messages, TOKENS),
      reader,
      leave: () => controller.abort(),
    };
  };

  /** Follows /live to its end, returning every event. */
  const follow = async (id: string): Promise<{ status: number; events: LiveAnswerEvent[] }> => {
    const response = await fetch(`${t.node.url}/allerac/v1/conversations/${id}/live`, { headers: session });
    if (response.status !== 200) return { status: response.status, events: [] };
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await response.text();
    const events = text
      .split('\n\n')
      .map((block) => block.split('\n').find((line) => line.startsWith('data: ')))
      .filter((line): line is string => line !== undefined)
      .map((line) => JSON.parse(line.slice('data: '.length)) as LiveAnswerEvent);
    return { status: response.status, events };
  };

  it('should finish and store an answer whose page left mid-stream, and replay it on /live', async () => {
    const chat = await startChat('tell me about the garden', session);
    chat.leave();
    const { status, events } = await follow(chat.id);
    expect(status).toBe(200);
    for (const event of events) expect(Value.Check(LiveAnswerEvent, event), JSON.stringify(event)).toBe(true);
    const [snapshot, ...rest] = events;
    expect(snapshot?.type).toBe('snapshot');
    if (snapshot?.type !== 'snapshot') return;
    expect(snapshot.node).toBe('alice');
    const deltas = rest.flatMap((e) => (e.type === 'delta' ? [e.content] : []));
    // Replay, then follow: the snapshot and the deltas after it are the whole answer, once.
    expect(snapshot.content + deltas.join('')).toBe(chat.expected);
    expect(deltas.length).toBeGreaterThan(0);
    expect(rest.at(-1)).toEqual({ type: 'end', status: 'complete', error: null });
    await waitFor(async () => (await messagesOf(chat.id)).at(-1)?.status === 'complete', 10_000, 'stored');
    const stored = await messagesOf(chat.id);
    expect(stored.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
    expect(stored[1]!.content).toBe(chat.expected);
    // Done: nothing is live any more.
    expect((await follow(chat.id)).status).toBe(204);
    const listed = await fetch(`${t.node.url}/allerac/v1/conversations`, { headers: session });
    const headers = ((await listed.json()) as { conversations: Array<{ id: string; source: string }> })
      .conversations;
    expect(headers.find((c) => c.id === chat.id)?.source).toBe('ui');
  });

  it('should show the answer as generating while it runs', async () => {
    const chat = await startChat('what is on the shopping list', session);
    const during = await messagesOf(chat.id);
    expect(during.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'generating'],
    ]);
    chat.leave();
    await follow(chat.id);
    await waitFor(async () => (await messagesOf(chat.id)).at(-1)?.status === 'complete', 10_000, 'stored');
  });

  it('should stop an answer on request and store it as stopped', async () => {
    const chat = await startChat('write a long poem', session);
    const stop = await fetch(`${t.node.url}/allerac/v1/conversations/${chat.id}/stop`, {
      method: 'POST',
      headers: session,
    });
    expect(stop.status).toBe(204);
    // The page that asked sees its stream end with the reason.
    let streamed = '';
    for (;;) {
      const { done, value } = await chat.reader.read();
      if (done) break;
      streamed += new TextDecoder().decode(value);
    }
    expect(streamed).toContain('"error":"the answer was stopped"');
    await waitFor(async () => (await messagesOf(chat.id)).at(-1)?.status === 'stopped', 10_000, 'stopped');
    const answer = (await messagesOf(chat.id)).at(-1)!;
    expect(chat.expected.startsWith(answer.content)).toBe(true);
    expect(answer.content.length).toBeLessThan(chat.expected.length);
    expect(answer.metadata.error).toBeUndefined();
    const again = await fetch(`${t.node.url}/allerac/v1/conversations/${chat.id}/stop`, {
      method: 'POST',
      headers: session,
    });
    expect(again.status).toBe(404);
  });

  it('should still cancel the answer of an API client that leaves, and record the partial', async () => {
    const cancelled = t.sim!.stats().cancelled;
    const chat = await startChat('hello from a script', {});
    chat.leave();
    await waitFor(() => t.sim!.stats().cancelled > cancelled, 10_000, 'the generation cancelled');
    await waitFor(
      async () => (await t.node.store.conversations.messages(chat.id)).length === 2,
      10_000,
      'the partial stored',
    );
    const [, answer] = await t.node.store.conversations.messages(chat.id);
    expect(answer!.status).toBe('partial');
    expect(answer!.content.length).toBeLessThan(chat.expected.length);
    expect((await t.node.store.conversations.get(chat.id))?.source).toBe('ollama-api');
  });
});

describe('a chat says before its first token whether the model is loaded', () => {
  let t: TestNode;
  let session: Record<string, string>;

  beforeAll(async () => {
    t = await startTestNode({
      name: 'alice',
      sim: { profile: 'fast', models: [MODEL, 'gemma3:4b'], preload: [MODEL] },
    });
    const setup = await t.node.http.inject({
      method: 'POST',
      url: '/auth/setup',
      payload: { username: 'ana', password: 'correct horse battery' },
    });
    const pairs = (setup.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]!);
    session = {
      cookie: pairs.join('; '),
      'x-csrf-token': pairs.find((p) => p.startsWith('allerac_csrf='))!.split('=')[1]!,
    };
  });

  afterAll(async () => {
    await t?.teardown();
  });

  it('should tell any client in X-Allerac-Model-State whether the serving node had the model loaded', async () => {
    for (const [model, state] of [
      [MODEL, 'loaded'],
      ['gemma3:4b', 'cold'],
    ] as const) {
      const answer = await t.node.http.inject({
        method: 'POST',
        url: '/api/chat',
        payload: { model, messages: [{ role: 'user', content: 'hi' }], stream: false },
      });
      expect(answer.statusCode).toBe(200);
      expect(answer.headers['x-allerac-model-state'], model).toBe(state);
    }
  });

  it('should send a web UI chat its headers before the first token, and let it be stopped then', async () => {
    // The model never sends a token: whatever the page learns, it learns before one.
    t.sim!.setFaults({ stallAfterTokens: 0 });
    try {
      const tokens = t.sim!.stats().tokens;
      const response = await fetch(`${t.node.url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...session },
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'are you there?' }] }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('x-allerac-model-state')).toBe('loaded');
      expect(response.headers.get('x-allerac-node')).toContain('alice');
      const id = response.headers.get('x-allerac-conversation')!;
      const live = await fetch(`${t.node.url}/allerac/v1/conversations/${id}/live`, { headers: session });
      const reader = live.body!.pipeThrough(new TextDecoderStream()).getReader();
      let head = '';
      while (!head.includes('event: snapshot')) head += (await reader.read()).value ?? '';
      await reader.cancel();
      expect(head).toContain('"node":"alice","modelState":"loaded","content":""');
      expect(t.sim!.stats().tokens).toBe(tokens);
      const stop = await fetch(`${t.node.url}/allerac/v1/conversations/${id}/stop`, {
        method: 'POST',
        headers: session,
      });
      expect(stop.status).toBe(204);
      expect(await response.text()).toBe('{"error":"the answer was stopped"}\n');
      await waitFor(
        async () => (await t.node.store.conversations.messages(id)).at(-1)?.status === 'stopped',
        10_000,
        'stored as stopped',
      );
    } finally {
      t.sim!.setFaults({});
    }
  });
});
