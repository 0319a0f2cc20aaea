/**
 * The home-automation assistant end to end over HTTP: a node backed by ollama-sim (whose model
 * makes scripted tool calls) and ha-sim. "Turn off the kitchen lights" through /api/chat (plain
 * fetch and the `ollama` client, streamed and not) and /v1/chat/completions (the OpenAI SDK)
 * turns the light off in Home Assistant, answers in text, and reports the call in the final
 * chunk's `allerac.toolCalls`, which the conversation record keeps. A domain outside the agent's
 * allow-list is refused and the model is told why; a wrong HA token is a clear error.
 */
import { type HaSim, startHaSim } from '@allerac/ha-sim';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import {
  type AnswerInfo,
  type ConversationMessages,
  StoredMessage,
  ToolCallInfo,
} from '../src/contract/index.js';
import type { ToolCallEvent } from '../src/tools/index.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

// The loop's event and the contract's closed schema are one shape: a field added to one only fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape: Same<ToolCallEvent, ToolCallInfo> = true;
void sameShape;

const MODEL = 'llama3.1:8b';
const AGENT = 'agent/home-automation';
const TURN_OFF = 'turn off the kitchen lights';
const UNLOCK = 'unlock the front door';
const LIGHT = 'light.kitchen_ceiling';
const TURN_OFF_CALL = { domain: 'light', service: 'turn_off', entity_id: LIGHT };

describe('home automation assistant through HTTP', () => {
  let t: TestNode;
  let ha: HaSim;
  let token: string;
  const headers = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
  const ask = (content: string) => [{ role: 'user' as const, content }];

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${t.node.url}${path}`, {
      method,
      headers: headers(),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  /** Puts the kitchen light on in ha-sim, as someone at home would. */
  async function lightOn(): Promise<void> {
    const response = await fetch(`${ha.url}/api/services/light/turn_on`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ha.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ entity_id: LIGHT }),
    });
    expect(response.status).toBe(200);
    expect(ha.state(LIGHT)?.state).toBe('on');
  }

  /** The stored answer of a conversation, once the recorder wrote it. */
  async function recordedAnswer(conversation: string) {
    let answer: ConversationMessages['messages'][number] | undefined;
    await waitFor(
      async () => {
        const response = await call('GET', `/allerac/v1/conversations/${conversation}/messages`);
        if (response.status !== 200) return false;
        const { messages } = (await response.json()) as ConversationMessages;
        answer = messages.find((m) => m.role === 'assistant' && m.status !== 'generating');
        return answer !== undefined;
      },
      10_000,
      'the answer to be recorded',
    );
    return answer!;
  }

  /** The tool messages the model was sent in its last chat. */
  function toolMessagesSent(): string[] {
    const chats = t.sim!.requests().filter((r) => r.path === '/api/chat');
    const last = JSON.parse(chats.at(-1)!.body) as { messages: Array<{ role: string; content: string }> };
    return last.messages.filter((m) => m.role === 'tool').map((m) => m.content);
  }

  const turnedOff = expect.objectContaining({
    step: 1,
    name: 'ha.call_service',
    arguments: TURN_OFF_CALL,
    action: true,
    result: expect.objectContaining({
      called: 'light.turn_off',
      entity_id: LIGHT,
      changed: [{ entity_id: LIGHT, name: 'Kitchen Ceiling', state: 'off' }],
    }),
  });

  beforeAll(async () => {
    t = await startTestNode({
      sim: {
        profile: 'fast',
        models: [MODEL],
        recordRequests: true,
        toolCalls: {
          [TURN_OFF]: [{ name: 'ha.call_service', arguments: TURN_OFF_CALL }],
          [UNLOCK]: [
            {
              name: 'ha.call_service',
              arguments: { domain: 'lock', service: 'unlock', entity_id: 'lock.front_door' },
            },
          ],
        },
      },
    });
    ha = await startHaSim();
    token = issueAdminToken(t.dataDir, 'test');
    const put = await call('PUT', '/allerac/v1/settings/home-assistant', { url: ha.url, token: ha.token });
    expect(put.status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await t?.teardown();
    await ha?.close();
  });
  beforeEach(lightOn);

  it('should turn the light off through /api/chat, report the call and record it', async () => {
    const response = await call('POST', '/api/chat', {
      model: AGENT,
      stream: false,
      messages: ask(TURN_OFF),
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { message: { content: string }; allerac: AnswerInfo };
    expect(ha.state(LIGHT)?.state).toBe('off');
    expect(answer.message.content).not.toBe('');
    expect(answer.allerac.toolCalls).toEqual([turnedOff]);
    expect(answer.allerac.toolLoopStopped).toBeUndefined();
    // The closed contract schema holds exactly what the loop reports.
    expect(Value.Check(Type.Array(ToolCallInfo), answer.allerac.toolCalls)).toBe(true);
    // The model answered after it read the result of its call.
    expect(toolMessagesSent()).toEqual([expect.stringContaining('"called":"light.turn_off"')]);

    const conversation = response.headers.get('x-allerac-conversation');
    expect(conversation).toBeTruthy();
    const stored = await recordedAnswer(conversation!);
    expect(stored.status).toBe('complete');
    expect(stored.content).toBe(answer.message.content);
    expect(stored.metadata.toolCalls).toEqual([turnedOff]);
    expect(Value.Check(StoredMessage, stored)).toBe(true);
  });

  it('should turn the light off through /api/chat streamed, with the call on the final chunk', async () => {
    const response = await call('POST', '/api/chat', { model: AGENT, messages: ask(TURN_OFF) });
    expect(response.status).toBe(200);
    const lines = (await response.text())
      .split('\n')
      .filter((line) => line !== '')
      .map(
        (line) => JSON.parse(line) as { message?: { content: string }; done?: boolean; allerac?: AnswerInfo },
      );
    const final = lines.at(-1)!;
    expect(final.done).toBe(true);
    expect(final.allerac?.toolCalls).toEqual([turnedOff]);
    // Only the final chunk speaks of tools; the text chunks are Ollama's.
    expect(lines.slice(0, -1).every((line) => line.allerac === undefined)).toBe(true);
    expect(lines.map((line) => line.message?.content ?? '').join('')).not.toBe('');
    expect(ha.state(LIGHT)?.state).toBe('off');
  });

  it('should turn the light off through the ollama client, streamed and not', async () => {
    const client = new Ollama({ host: t.node.url, headers: { authorization: `Bearer ${token}` } });
    const whole = await client.chat({ model: AGENT, messages: ask(TURN_OFF) });
    expect(ha.state(LIGHT)?.state).toBe('off');
    expect(whole.message.content).not.toBe('');
    expect((whole as unknown as { allerac: AnswerInfo }).allerac.toolCalls).toEqual([turnedOff]);

    await lightOn();
    let text = '';
    let last: unknown;
    for await (const part of await client.chat({ model: AGENT, messages: ask(TURN_OFF), stream: true })) {
      text += part.message.content;
      last = part;
    }
    expect(ha.state(LIGHT)?.state).toBe('off');
    expect(text).toBe(whole.message.content);
    expect((last as { allerac: AnswerInfo }).allerac.toolCalls).toEqual([turnedOff]);
  });

  it('should turn the light off through /v1/chat/completions with the OpenAI SDK, streamed and not', async () => {
    const openai = new OpenAI({ baseURL: `${t.node.url}/v1`, apiKey: token, maxRetries: 0 });
    const whole = await openai.chat.completions.create({ model: AGENT, messages: ask(TURN_OFF) });
    expect(ha.state(LIGHT)?.state).toBe('off');
    expect(whole.choices[0]?.message.content).toBeTruthy();
    expect(whole.choices[0]?.message.tool_calls ?? []).toEqual([]);
    expect((whole as unknown as { allerac: AnswerInfo }).allerac.toolCalls).toEqual([turnedOff]);

    await lightOn();
    const stream = await openai.chat.completions.create({
      model: AGENT,
      messages: ask(TURN_OFF),
      stream: true,
    });
    let text = '';
    let info: AnswerInfo | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      info = (chunk as unknown as { allerac?: AnswerInfo }).allerac ?? info;
    }
    expect(ha.state(LIGHT)?.state).toBe('off');
    expect(text).toBe(whole.choices[0]?.message.content);
    expect(info?.toolCalls).toEqual([turnedOff]);
  });

  it('should refuse a domain outside the allow-list and tell the model so', async () => {
    const response = await call('POST', '/api/chat', { model: AGENT, stream: false, messages: ask(UNLOCK) });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { message: { content: string }; allerac: AnswerInfo };
    expect(ha.state('lock.front_door')?.state).toBe('locked');
    expect(answer.message.content).not.toBe('');
    expect(answer.allerac.toolCalls).toEqual([
      expect.objectContaining({
        name: 'ha.call_service',
        action: true,
        error: {
          name: 'ToolRefusedError',
          message: expect.stringMatching(/\block\b.*tell the user it was not done/),
        },
      }),
    ]);
    expect(answer.allerac.toolCalls?.[0]).not.toHaveProperty('result');
    expect(toolMessagesSent()).toEqual([
      expect.stringMatching(/^Error \(ToolRefusedError\): .*\block\b.*not done/),
    ]);
  });

  it('should say clearly when Home Assistant refuses the token, and record it', async () => {
    const put = await call('PUT', '/allerac/v1/settings/home-assistant', {
      url: ha.url,
      token: 'not-the-token',
    });
    expect(put.status).toBe(200);
    try {
      const response = await call('POST', '/api/chat', {
        model: AGENT,
        stream: false,
        messages: ask(TURN_OFF),
      });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as { allerac: AnswerInfo };
      expect(ha.state(LIGHT)?.state).toBe('on');
      const refused = {
        name: 'HomeAssistantTokenRefusedError',
        message: expect.stringMatching(/^Home Assistant refused the access token/),
      };
      expect(answer.allerac.toolCalls).toEqual([
        expect.objectContaining({ name: 'ha.call_service', error: refused }),
      ]);
      expect(toolMessagesSent()).toEqual([expect.stringMatching(/Home Assistant refused the access token/)]);
      const stored = await recordedAnswer(response.headers.get('x-allerac-conversation')!);
      expect(stored.metadata.toolCalls).toEqual([expect.objectContaining({ error: refused })]);
      expect(JSON.stringify(stored)).not.toContain('not-the-token');
    } finally {
      await call('PUT', '/allerac/v1/settings/home-assistant', { url: ha.url, token: ha.token });
    }
  });
});
