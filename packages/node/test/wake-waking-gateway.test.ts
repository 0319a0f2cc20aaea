import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Placement } from '@allerac/router';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OllamaObject } from '../src/backend/backend.js';
import { AnswerAggregate } from '../src/inference/aggregate.js';
import type { InferenceStream } from '../src/inference/gateway.js';
import { KnownPeers } from '../src/wake/known-peers.js';
import { macOfMagicPacket } from '../src/wake/magic-packet.js';
import { SleepingPeers } from '../src/wake/sleeping-peers.js';
import { WakeSender } from '../src/wake/wake-sender.js';
import { type ExplainingGateway, WakingGateway } from '../src/wake/waking-gateway.js';
import { card, FakePresence, GAMING } from './helpers/wake-fixtures.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** The wrapped gateway as an in-memory fake: a fixed awake ranking, and a record of each request. */
class FakeGateway implements ExplainingGateway {
  readonly requests: OllamaObject[] = [];
  constructor(private readonly awake: Placement[]) {}
  async explain(): Promise<Placement[]> {
    if (this.awake.length === 0) throw new Error('model not found');
    return this.awake;
  }
  async generate(_kind: 'chat' | 'generate', request: OllamaObject): Promise<InferenceStream> {
    this.requests.push(request);
    const pin = (request.allerac as { node?: string } | undefined)?.node;
    const node = pin === GAMING ? 'gaming-pc' : (this.awake[0]?.nodeName ?? 'none');
    return {
      firstChoice: node,
      first: { done: true },
      rest: { async *[Symbol.asyncIterator]() {} },
      answer: new AnswerAggregate('chat'),
      servedBy: () => ({ node, failovers: 0 }),
      preparedFor: () => ({ memory: { scope: 'none', used: 0 } }),
    };
  }
  models = async () => [];
  loaded = async () => [];
  show = async () => ({});
  version = async () => '0.12.0';
  embed = async () => ({ response: {}, servedBy: { node: 'x', failovers: 0 } });
  localModels = async () => [];
  embedLocally = async () => ({});
}

const slowMini: Placement = {
  nodeId: 'p-mini',
  nodeName: 'mini',
  model: 'llama3.1:8b',
  eligible: true,
  estimateMs: 45_000,
  score: 45_000,
  reason: 'cold; est. 45.0 s',
};
const chat = { model: 'llama3.1:8b', messages: [{ role: 'user', content: 'hi' }] };

let dir: string;
let known: KnownPeers | undefined;
let socket: ReturnType<typeof createSocket>;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'allerac-waking-'));
  socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
});
afterEach(async () => {
  socket.close();
  await known?.flush();
  await rm(dir, { recursive: true, force: true });
});

async function setup(
  awake: Placement[],
  settings: { wakeEnabled?: boolean; patienceMs?: number; wakeWaitMs?: number } = {},
) {
  const presence = new FakePresence();
  known = new KnownPeers({ dataDir: dir }, { logger });
  const sender = new WakeSender(
    { port: socket.address().port },
    {
      logger,
      interfaces: () => [
        { name: 'lo', mac: '00:00:00:00:00:02', address: '127.0.0.1', broadcast: '127.0.0.1' },
      ],
    },
  );
  const sleeping = new SleepingPeers({ known, presence, sender, logger });
  sleeping.start();
  // The gaming PC was seen once, then went to sleep.
  presence.emit('join', card(GAMING));
  presence.online.delete(GAMING);
  const inner = new FakeGateway(awake);
  const gateway = new WakingGateway(
    {
      wakeEnabled: async () => settings.wakeEnabled ?? true,
      patienceMs: async () => settings.patienceMs ?? 20_000,
      wakeWaitMs: settings.wakeWaitMs ?? 60_000,
    },
    { inner, sleeping, logger },
  );
  return { presence, inner, gateway };
}

describe('WakingGateway', () => {
  it('should wake the preferred sleeper, wait for its join and pin the request there', async () => {
    const { presence, inner, gateway } = await setup([slowMini]);
    const packet = once(socket, 'message');
    const generating = gateway.generate('chat', chat, new AbortController().signal);
    expect(macOfMagicPacket((await packet)[0] as Buffer)).toBe('aa:bb:cc:dd:ee:01');
    expect(inner.requests).toEqual([]);
    presence.emit('join', card(GAMING));
    const stream = await generating;
    expect(inner.requests[0]?.allerac).toEqual({ node: GAMING });
    expect(stream.servedBy().node).toBe('gaming-pc');
    expect(stream.preparedFor()).toEqual({
      memory: { scope: 'none', used: 0 },
      wake: {
        outcome: 'woke',
        peer: 'gaming-pc',
        reason:
          'woke gaming-pc: it is preferred when on; mini would take est. 45.0 s, past the patience of 20.0 s',
      },
    });
  });

  it('should serve at once with the reason when waking is off', async () => {
    const { inner, gateway } = await setup([slowMini], { wakeEnabled: false });
    const stream = await gateway.generate('chat', chat, new AbortController().signal);
    expect(inner.requests[0]).toEqual(chat);
    expect(stream.servedBy().node).toBe('mini');
    expect(stream.preparedFor().wake).toEqual({
      outcome: 'not-woken',
      reason:
        'gaming-pc is asleep and it is preferred when on, but waking is off on this node (wake.enabled)',
    });
  });

  it('should serve elsewhere, saying so, when the woken peer does not join in time', async () => {
    const { inner, gateway } = await setup([slowMini], { wakeWaitMs: 5 });
    const stream = await gateway.generate('chat', chat, new AbortController().signal);
    expect(inner.requests[0]).toEqual(chat);
    expect(stream.preparedFor().wake).toEqual({
      outcome: 'timed-out',
      peer: 'gaming-pc',
      reason: 'gaming-pc did not wake within 0 s; served by an awake node',
    });
  });

  it('should leave a pinned or local-first request alone, and explain the sleeper in the route', async () => {
    const { inner, gateway } = await setup([slowMini]);
    const pinned = { ...chat, allerac: { node: 'mini' } };
    const stream = await gateway.generate('chat', pinned, new AbortController().signal);
    expect(inner.requests).toEqual([pinned]);
    expect(stream.preparedFor().wake).toBeUndefined();
    const localFirst = { ...chat, allerac: { policy: 'local-first' } };
    const local = await gateway.generate('chat', localFirst, new AbortController().signal);
    expect(local.preparedFor().wake).toBeUndefined();
    expect(inner.requests).toEqual([pinned, localFirst]);
    const route = await gateway.explain('llama3.1:8b');
    expect(route.map((p) => [p.nodeName, p.eligible])).toEqual([
      ['mini', true],
      ['gaming-pc', false],
    ]);
    expect(route[1]?.reason).toMatch(
      /^asleep; est\. [\d.]+ s once awake \(cold\); would be woken: woke gaming-pc/,
    );
  });

  it('should stop waiting when the caller leaves', async () => {
    const { inner, gateway } = await setup([]);
    const abort = new AbortController();
    const packet = once(socket, 'message');
    const generating = gateway.generate('chat', chat, abort.signal);
    await packet;
    abort.abort(new Error('client gone'));
    await expect(generating).rejects.toThrow('client gone');
    expect(inner.requests).toEqual([]);
  });
});
