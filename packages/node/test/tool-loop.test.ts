/**
 * The server-side tool loop end to end: a real node's gateway in front of ollama-sim (which makes
 * the tool calls its `toolCalls` script names), the Home Assistant tools against ha-sim.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HaSim, startHaSim } from '@allerac/ha-sim';
import { expectedReply, type ScriptedToolCall } from '@allerac/ollama-sim';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OllamaObject } from '../src/backend/backend.js';
import type { AgentView } from '../src/contract/agents.js';
import { DEFAULT_HA_ACTION_DOMAINS } from '../src/contract/home-assistant.js';
import {
  createHomeAssistantService,
  createHomeAssistantTools,
  type HomeAssistantService,
} from '../src/home-assistant/index.js';
import type { InferenceStream } from '../src/inference/gateway.js';
import { createToolChatRunner, runToolLoop, type ToolCallEvent, ToolRegistry } from '../src/tools/index.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

const MODEL = 'llama3.2:3b';
const TURN_OFF = 'turn off the kitchen lights';
const UNLOCK = 'unlock the front door';
const BAD_ARGS = 'how warm is the living room';
const KITCHEN = 'what is in the kitchen';
const VIA_HOMEASSISTANT = 'boil the water';
const VIA_AREA = 'light up the living room';

const SCRIPTS: Record<string, ScriptedToolCall[]> = {
  [TURN_OFF]: [
    {
      name: 'ha.call_service',
      arguments: { domain: 'light', service: 'turn_off', entity_id: 'light.kitchen_ceiling' },
    },
  ],
  [UNLOCK]: [
    {
      name: 'ha.call_service',
      arguments: { domain: 'lock', service: 'unlock', entity_id: 'lock.front_door' },
    },
  ],
  [BAD_ARGS]: [{ name: 'ha.get_state', arguments: { entity_id: 42 } }],
  [KITCHEN]: [{ name: 'ha.list_devices', arguments: { area: 'Kitchen' } }],
  [VIA_HOMEASSISTANT]: [
    {
      name: 'ha.call_service',
      arguments: { domain: 'homeassistant', service: 'turn_on', entity_id: 'switch.kitchen_kettle' },
    },
  ],
  [VIA_AREA]: [
    {
      name: 'ha.call_service',
      arguments: {
        domain: 'homeassistant',
        service: 'turn_on',
        entity_id: 'light.kitchen_ceiling',
        data: { area_id: 'living_room' },
      },
    },
  ],
};

function homeAgent(tools: Partial<AgentView['tools']> = {}): AgentView {
  return {
    slug: 'home-automation',
    name: 'Home',
    description: 'Runs the home',
    icon: '🏠',
    systemPrompt: 'You control the home through Home Assistant.',
    models: { preferred: [MODEL], fallback: { capabilities: ['tools'], minParamsB: 0 } },
    memory: { spaces: [], write: false },
    tools: {
      allowed: ['ha.list_devices', 'ha.get_state', 'ha.call_service'],
      homeAssistantDomains: ['light', 'switch'],
      allowActions: true,
      maxSteps: 4,
      ...tools,
    },
    sampling: {},
    builtIn: true,
    updatedAt: new Date().toISOString(),
  };
}

async function drain(stream: InferenceStream): Promise<OllamaObject[]> {
  const chunks = [stream.first];
  if (stream.first.done !== true) for await (const batch of stream.rest) chunks.push(...batch);
  return chunks;
}

const contentOf = (chunks: OllamaObject[]) =>
  chunks.map((c) => (c.message as { content?: string } | undefined)?.content ?? '').join('');

describe('the tool loop', () => {
  let t: TestNode;
  let ha: HaSim;
  let dataDir: string;
  let service: HomeAssistantService;

  beforeAll(async () => {
    t = await startTestNode({ sim: { profile: 'fast', recordRequests: true, toolCalls: SCRIPTS } });
    ha = await startHaSim();
    dataDir = mkdtempSync(join(tmpdir(), 'allerac-tools-'));
  });
  afterAll(async () => {
    await t?.teardown();
    await ha?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    ha.setFaults({});
    service = createHomeAssistantService({ dataDir, timeoutMs: 1_000 });
    service.save({ url: ha.url, token: ha.token, actionDomains: [...DEFAULT_HA_ACTION_DOMAINS] });
    await fetch(`${t.sim!.url}/_sim/reset`, { method: 'POST' });
  });

  async function ask(question: string, agent: AgentView, timeLimitMs?: number, extra: OllamaObject = {}) {
    const events: ToolCallEvent[] = [];
    const stream = await runToolLoop({
      request: {
        ...extra,
        model: MODEL,
        messages: [
          { role: 'system', content: agent.systemPrompt },
          { role: 'user', content: question },
        ],
      },
      agent,
      registry: new ToolRegistry(
        createHomeAssistantTools({
          client: () => service.client(),
          actionDomains: () => service.actionDomains(),
        }),
      ),
      chat: (body, signal) => t.node.gateway.generate('chat', body, signal),
      signal: new AbortController().signal,
      onToolCall: (event) => events.push(event),
      ...(timeLimitMs !== undefined ? { timeLimitMs } : {}),
    });
    const chunks = await drain(stream);
    const chats = t
      .sim!.requests()
      .filter((r) => r.path === '/api/chat')
      .map((r) => ({ body: JSON.parse(String(r.body)) as unknown }));
    return { stream, chunks, events, chats, content: contentOf(chunks) };
  }

  /** The `tool` message the model was sent after its call. */
  const toolMessage = (chat: { body: unknown }) =>
    ((chat.body as { messages: OllamaObject[] }).messages.at(-1) ?? {}) as Record<string, unknown>;

  it('should turn off the kitchen light through ha.call_service and stream the answer as plain chunks', async () => {
    await fetch(`${ha.url}/api/services/light/turn_on`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ha.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ entity_id: 'light.kitchen_ceiling' }),
    });
    expect(ha.state('light.kitchen_ceiling')?.state).toBe('on');
    const { chunks, events, chats, content, stream } = await ask(TURN_OFF, homeAgent());
    expect(ha.state('light.kitchen_ceiling')?.state).toBe('off');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      step: 1,
      name: 'ha.call_service',
      action: true,
      arguments: SCRIPTS[TURN_OFF]![0]!.arguments,
      result: { changed: [{ entity_id: 'light.kitchen_ceiling', state: 'off' }] },
    });
    expect(events[0]!.error).toBeUndefined();
    // Two model turns: the call, then the answer after the tool message.
    expect(chats).toHaveLength(2);
    const first = chats[0]!.body as { tools: Array<{ type: string; function: { name: string } }> };
    expect(first.tools.map((tool) => tool.function.name)).toEqual([
      'ha.list_devices',
      'ha.get_state',
      'ha.call_service',
    ]);
    const tool = toolMessage(chats[1]!);
    expect(tool).toMatchObject({ role: 'tool', tool_name: 'ha.call_service' });
    expect(tool.tool_call_id).toMatch(/^call_/);
    expect(JSON.parse(tool.content as string)).toMatchObject({ called: 'light.turn_off' });
    // The client gets the model's answer, ordinary chunks with no tool calls, ending in `done`.
    expect(content).toBe(expectedReply(MODEL, chats[1]!.body as never).content);
    expect(content.length).toBeGreaterThan(0);
    expect(chunks.at(-1)?.done).toBe(true);
    expect(chunks.some((c) => 'tool_calls' in ((c.message as object | undefined) ?? {}))).toBe(false);
    expect(stream.preparedFor().toolCalls).toEqual(events);
  });

  it('should refuse a domain outside the allow-list and tell the model so', async () => {
    const { events, chats } = await ask(UNLOCK, homeAgent());
    expect(ha.state('lock.front_door')?.state).toBe('locked');
    expect(events[0]).toMatchObject({ name: 'ha.call_service', error: { name: 'ToolRefusedError' } });
    const tool = toolMessage(chats[1]!);
    expect(tool.tool_name).toBe('ha.call_service');
    expect(tool.content).toMatch(
      /^Error \(ToolRefusedError\): .*domain lock is not one this assistant may control/,
    );
  });

  it("should refuse a domain the agent allows but this node's admin did not, until the admin allows it", async () => {
    // Agents are shared by the home, and any paired node may edit one: which domains this node's
    // token acts in is this node's choice. A lock is not among the defaults.
    const agent = homeAgent({ homeAssistantDomains: ['light', 'lock'] });
    const refused = await ask(UNLOCK, agent);
    expect(ha.state('lock.front_door')?.state).toBe('locked');
    expect(toolMessage(refused.chats[1]!).content).toMatch(
      /^Error \(ToolRefusedError\): this node's Home Assistant settings do not let assistants act in the domain of lock\.unlock/,
    );
    expect(service.view().actionDomains).not.toContain('lock');

    service.save({ url: service.view().url as string, actionDomains: ['light', 'lock'] });
    await fetch(`${t.sim!.url}/_sim/reset`, { method: 'POST' });
    const allowed = await ask(UNLOCK, agent);
    expect(allowed.events[0]!.error).toBeUndefined();
    expect(ha.state('lock.front_door')?.state).toBe('unlocked');
    // The later tests find the door as the home started.
    await fetch(`${ha.url}/api/services/lock/lock`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ha.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ entity_id: 'lock.front_door' }),
    });
    expect(ha.state('lock.front_door')?.state).toBe('locked');
  });

  it('should refuse an entity outside the allowed domains, even through the homeassistant domain or data targets', async () => {
    const agent = homeAgent({ homeAssistantDomains: ['light', 'homeassistant'] });
    const kettle = await ask(VIA_HOMEASSISTANT, agent);
    expect(ha.state('switch.kitchen_kettle')?.state).toBe('off');
    expect(toolMessage(kettle.chats[1]!).content).toMatch(
      /switch\.kitchen_kettle is in the domain switch, which this assistant may not control/,
    );
    const speaker = ha.state('media_player.living_room_speaker')?.state;
    const area = await ask(VIA_AREA, agent);
    expect(ha.state('media_player.living_room_speaker')?.state).toBe(speaker);
    expect(toolMessage(area.chats.at(-1)!).content).toMatch(
      /name the target in entity_id, not in data \(area_id\)/,
    );
  });

  it('should refuse every action when the agent may not take actions, and say so in the tool description', async () => {
    await fetch(`${ha.url}/api/services/light/turn_on`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ha.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ entity_id: 'light.kitchen_ceiling' }),
    });
    const { events, chats } = await ask(TURN_OFF, homeAgent({ allowActions: false }));
    expect(ha.state('light.kitchen_ceiling')?.state).toBe('on');
    expect(events[0]).toMatchObject({ action: true, error: { name: 'ToolRefusedError' } });
    expect(toolMessage(chats[1]!).content).toMatch(/not allowed to take actions/);
    const offered = (chats[0]!.body as { tools: Array<{ function: { name: string; description: string } }> })
      .tools;
    expect(offered.find((tool) => tool.function.name === 'ha.call_service')?.function.description).toMatch(
      /may not take actions/,
    );
  });

  it('should send invalid arguments back to the model as an error, and still answer', async () => {
    const { events, chats, content } = await ask(BAD_ARGS, homeAgent());
    expect(events[0]).toMatchObject({ name: 'ha.get_state', error: { name: 'ToolArgumentsError' } });
    expect(toolMessage(chats[1]!).content).toMatch(
      /^Error \(ToolArgumentsError\): invalid arguments for ha.get_state: entity_id/,
    );
    expect(content).toBe(expectedReply(MODEL, chats[1]!.body as never).content);
  });

  it('should stop at the step limit and answer with what it has and a note', async () => {
    await fetch(`${ha.url}/api/services/light/turn_on`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ha.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ entity_id: 'light.kitchen_ceiling' }),
    });
    const { stream, chunks, chats, content } = await ask(TURN_OFF, homeAgent({ maxSteps: 1 }));
    expect(chats).toHaveLength(1);
    expect(ha.state('light.kitchen_ceiling')?.state).toBe('off');
    expect(content).toMatch(/stopped after 1 step, the most this assistant may take/);
    expect(content).toMatch(/ha\.call_service returned .*light\.turn_off/);
    expect(chunks.at(-1)).toMatchObject({ done: true, done_reason: 'stop' });
    expect(stream.answer.content).toBe(content);
    expect(stream.preparedFor().toolLoopStopped).toBe('max-steps');
  });

  it('should make a refused Home Assistant token a clear tool error', async () => {
    service.save({ url: ha.url, token: 'not-the-token' });
    const { events, chats, stream } = await ask(KITCHEN, homeAgent());
    expect(events[0]).toMatchObject({
      name: 'ha.list_devices',
      error: {
        name: 'HomeAssistantTokenRefusedError',
        message: expect.stringMatching(/refused the access token/),
      },
    });
    expect(toolMessage(chats[1]!).content).toMatch(/Home Assistant refused the access token/);
    expect(stream.preparedFor().toolCalls).toEqual(events);
    // At the step limit the note carries it into the answer text itself.
    const limited = await ask(KITCHEN, homeAgent({ maxSteps: 1 }));
    expect(limited.content).toMatch(/ha\.list_devices failed: Home Assistant refused the access token/);
  });

  it('should list the devices of an area', async () => {
    const { events } = await ask(KITCHEN, homeAgent());
    expect(events[0]!.result).toEqual([
      { entity_id: 'light.kitchen_ceiling', name: 'Kitchen Ceiling', state: expect.any(String) },
      { entity_id: 'switch.kitchen_kettle', name: 'Kitchen Kettle', state: 'off' },
    ]);
  });

  it('should turn a slow Home Assistant into a tool error within the request limit', async () => {
    ha.setFaults({ slowMs: 5_000 });
    const { events, content } = await ask(KITCHEN, homeAgent());
    expect(events[0]).toMatchObject({ error: { name: 'HomeAssistantTimeoutError' } });
    expect(events[0]!.error!.message).toMatch(/did not answer within 1000 ms/);
    expect(events[0]!.durationMs).toBeGreaterThanOrEqual(900);
    // Well short of HA's 5 s delay: the tool gave up at its limit, not when HA answered.
    expect(events[0]!.durationMs).toBeLessThan(4_500);
    expect(content.length).toBeGreaterThan(0);
  });

  it('should run the loop at the agents seam, and leave a client that sent its own tools to run them', async () => {
    const registry = new ToolRegistry(
      createHomeAssistantTools({
        client: () => service.client(),
        actionDomains: () => service.actionDomains(),
      }),
    );
    const runner = createToolChatRunner(registry);
    const agent = homeAgent();
    const messages = [{ role: 'user', content: UNLOCK }];
    const base = { agent, model: MODEL, kind: 'chat' as const, signal: new AbortController().signal };
    const looped = await drain(
      await runner({ ...base, request: { model: MODEL, messages } }, t.node.gateway),
    );
    expect(looped.some((c) => 'tool_calls' in ((c.message as object | undefined) ?? {}))).toBe(false);
    const clientTools = [
      { type: 'function', function: { name: 'ha.call_service', parameters: { type: 'object' } } },
    ];
    const own = await drain(
      await runner({ ...base, request: { model: MODEL, messages, tools: clientTools } }, t.node.gateway),
    );
    // The client's own tool call reaches it, untouched and not run here.
    expect(own.flatMap((c) => (c.message as { tool_calls?: unknown[] }).tool_calls ?? [])).toHaveLength(1);
    expect(ha.state('lock.front_door')?.state).toBe('locked');
  });

  it('should free the node for the next answer after each tool turn', async () => {
    // A tool turn's stream read to its `done` chunk but never ended kept its slot: the third loop waited forever.
    for (let i = 0; i < 4; i++) {
      const { events } = await ask(UNLOCK, homeAgent());
      expect(events).toHaveLength(1);
    }
  });

  it('should run the loop for a client that asked for one JSON answer (stream: false), turn after turn', async () => {
    for (let i = 0; i < 4; i++) {
      const { events, content, chats } = await ask(BAD_ARGS, homeAgent(), undefined, { stream: false });
      expect(events).toHaveLength(1);
      expect(content).toBe(expectedReply(MODEL, chats.at(-1)!.body as never).content);
    }
  });

  it('should stop at the loop time limit with a note', async () => {
    ha.setFaults({ slowMs: 5_000 });
    const { stream, content, events } = await ask(KITCHEN, homeAgent(), 300);
    expect(events[0]!.error?.name).toBe('ToolTimeoutError');
    expect(content).toMatch(/reached its time limit/);
    expect(stream.preparedFor().toolLoopStopped).toBe('time-limit');
  });
});
