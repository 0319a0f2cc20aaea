/**
 * The gateway in process: alice's own backend, and two peers (bob, carol) reached through a
 * remote-inference port that runs real inference on their own ollama-sims, in their own slots.
 */
import type { PeerView } from '@allerac/mesh';
import { expectedAnswer, type OllamaSim, startOllamaSim } from '@allerac/ollama-sim';
import {
  type HardwareInfo,
  type InferRequestMessage,
  type InferStats,
  MAX_INFER_FRAME_BYTES,
} from '@allerac/protocol';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, OllamaObject } from '../src/backend/backend.js';
import { BackendResponseError } from '../src/backend/errors.js';
import { createOllamaBackend } from '../src/backend/ollama-backend.js';
import { PeerLostError, RemoteInferenceError, RequestTooLargeError } from '../src/inference/errors.js';
import { LocalLoad, NodeBusyError } from '../src/inference/local-load.js';
import { LocalModels } from '../src/inference/local-models.js';
import { PeerMeasurements } from '../src/inference/measurements.js';
import { MeshGateway, type PeerDirectory, type RemoteInference } from '../src/inference/mesh-gateway.js';

const PEER_MODEL = 'llama3.2:3b';
const EMBED_MODEL = 'all-minilm:latest';
const LOCAL_MODEL = 'gemma3:4b';
const logger = pino({ level: 'silent' });
const roomy: HardwareInfo = {
  cpuModel: 'test',
  cores: 4,
  ramTotal: 64 * 2 ** 30,
  ramFree: 48 * 2 ** 30,
  gpus: [],
  diskFree: 100 * 2 ** 30,
};

/** One simulated machine: its Ollama, the backend that talks to it and its slots. */
interface Machine {
  name: string;
  sim: OllamaSim;
  backend: Backend;
  load: LocalLoad;
  models: LocalModels;
}

/** What the peers' side of the port saw of one request. */
interface Served {
  peerId: string;
  request: InferRequestMessage;
  /** Settles when the peer's generation is over: 'ended' read to infer-done, else 'cut'. */
  over: Promise<'ended' | 'cut'>;
  /** Whether the caller's signal was aborted by then. */
  aborted: () => boolean;
}

async function machine(name: string, models: string[], slots = 4, queue = 16): Promise<Machine> {
  const sim = await startOllamaSim({ profile: 'fast', models, preload: models });
  const backend = createOllamaBackend({ url: sim.url }, { logger });
  await backend.start();
  return { name, sim, backend, load: new LocalLoad(slots, queue), models: new LocalModels(backend) };
}

async function close(m: Machine | undefined): Promise<void> {
  await m?.backend.stop();
  await m?.sim.close();
}

/** A peer as alice's mesh would show it, its card made from its real backend. */
async function peerView(m: Machine, busy = 0): Promise<PeerView> {
  return {
    id: m.name,
    name: m.name,
    nameClash: false,
    status: 'online',
    lastSeen: Date.now(),
    addresses: [],
    card: {
      name: m.name,
      peerId: m.name,
      softwareVersion: '0.1.0',
      protocolVersion: '1.0.0',
      hardware: roomy,
      backend: { state: 'up' },
      models: await m.models.list(),
      load: { activeTasks: busy, queueDepth: busy, slots: 4, tokensPerSecond: {} },
      specializations: [],
      issuedAt: Date.now(),
      seq: 1,
    },
  };
}

/**
 * The remote-inference port over the peers' real backends, as a peer's infer service runs it:
 * a slot in the peer's LocalLoad (its peer share), its Ollama's chunks, infer-done's stats.
 */
function peersPort(peers: Machine[], served: Served[]): RemoteInference {
  return async function* (peerId, request, signal) {
    const peer = peers.find((p) => p.name === peerId);
    if (peer === undefined) throw new PeerLostError(`could not reach peer ${peerId}`);
    let end: (how: 'ended' | 'cut') => void = () => {};
    served.push({
      peerId,
      request,
      over: new Promise((resolve) => {
        end = resolve;
      }),
      aborted: () => signal.aborted,
    });
    let how: 'ended' | 'cut' = 'cut';
    let release: (() => void) | undefined;
    try {
      try {
        release = await peer.load.acquire(signal, 'alice');
      } catch (error) {
        if (error instanceof NodeBusyError) throw new RemoteInferenceError('busy', error.message, true);
        throw error;
      }
      const body = { ...request.body, model: request.model };
      if (request.api === 'embed') {
        yield await peer.backend.embed(body, signal);
        how = 'ended';
        return {};
      }
      let last: OllamaObject | undefined;
      try {
        const chunks =
          request.api === 'chat' ? peer.backend.chat(body, signal) : peer.backend.generate(body, signal);
        for await (const batch of chunks) {
          for (const chunk of batch) {
            last = chunk;
            yield chunk;
          }
        }
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (error instanceof BackendResponseError && last === undefined)
          throw new RemoteInferenceError('internal', error.message, true, error.status);
        throw new PeerLostError(`peer ${peerId} broke off the answer: ${(error as Error).message}`);
      }
      how = 'ended';
      return statsOf(last);
    } finally {
      release?.();
      end(how);
    }
  };
}

function statsOf(final: OllamaObject | undefined): InferStats {
  const n = (key: string) => (typeof final?.[key] === 'number' ? (final[key] as number) : undefined);
  return {
    ...(n('eval_count') !== undefined ? { evalCount: n('eval_count')! } : {}),
    ...(n('eval_duration') !== undefined ? { evalDurationNs: n('eval_duration')! } : {}),
    ...(n('prompt_eval_count') !== undefined ? { promptEvalCount: n('prompt_eval_count')! } : {}),
    ...(n('prompt_eval_duration') !== undefined ? { promptEvalDurationNs: n('prompt_eval_duration')! } : {}),
  };
}

function contentOf(chunk: OllamaObject): string {
  return String((chunk.message as { content?: unknown } | undefined)?.content ?? '');
}

describe('the gateway tries candidates in order, in process', () => {
  let alice: Machine;
  let bob: Machine;
  let carol: Machine;
  let served: Served[];
  let measurements: PeerMeasurements;
  let views: PeerView[];

  const gateway = (localLoad = alice.load) => {
    measurements = new PeerMeasurements();
    const peers: PeerDirectory = { peerId: 'alice', peers: () => views };
    return new MeshGateway(
      { nodeName: () => 'alice', specializations: () => [], defaultPolicy: () => ({ kind: 'auto' }) },
      {
        backend: alice.backend,
        localModels: alice.models,
        load: localLoad,
        measurements,
        hardware: async () => roomy,
        logger,
        peers,
        remote: peersPort([bob, carol], served),
      },
    );
  };
  const ask = (content: string) => [{ role: 'user', content }];

  beforeAll(async () => {
    alice = await machine('alice', [LOCAL_MODEL]);
    bob = await machine('bob', [PEER_MODEL, EMBED_MODEL]);
  });

  afterAll(async () => {
    await close(alice);
    await close(bob);
  });

  beforeEach(async () => {
    served = [];
    carol = await machine('carol', [PEER_MODEL, EMBED_MODEL]);
    // carol's card says she is busier, so bob is the first choice.
    views = [await peerView(bob), await peerView(carol, 2)];
  });

  afterEach(async () => {
    await close(carol);
  });

  it('should rank bob first for the peers-only model (the premise of what follows)', async () => {
    const ranked = await gateway().explain(PEER_MODEL);
    expect(ranked.filter((p) => p.eligible).map((p) => p.nodeName)).toEqual(['bob', 'carol']);
  });

  it('should move on to carol when bob is busy, with no failure counted against bob', async () => {
    const busyBob = bob.load;
    bob.load = new LocalLoad(1, 0);
    const held = await bob.load.acquire(new AbortController().signal);
    try {
      const messages = ask('who is free?');
      const stream = await gateway().generate(
        'chat',
        { model: PEER_MODEL, messages },
        new AbortController().signal,
      );
      for await (const _ of stream.rest);
      expect(stream.servedBy()).toEqual({ node: 'carol', failovers: 1 });
      expect(stream.answer.content).toBe(expectedAnswer(PEER_MODEL, messages));
      expect(served.map((s) => s.peerId)).toEqual(['bob', 'carol']);
      expect(measurements.forNode('bob', undefined).recentFailures).toBe(0);
    } finally {
      held();
      bob.load = busyBob;
    }
  });

  it("should send a burst of 40 chats to the one peer that has the model, past infer/1's 32 streams", async () => {
    const usual = bob.load;
    // bob runs as many at once as his Ollama does, so only the gateway's own bound could refuse.
    bob.load = new LocalLoad(128, 512);
    views = [await peerView(bob)];
    try {
      const g = gateway();
      const answers = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const messages = ask(`burst ${i}`);
          const stream = await g.generate(
            'chat',
            { model: PEER_MODEL, messages },
            new AbortController().signal,
          );
          for await (const _ of stream.rest);
          return (
            stream.answer.content === expectedAnswer(PEER_MODEL, messages) && stream.servedBy().node === 'bob'
          );
        }),
      );
      expect(answers.filter((ok) => !ok)).toEqual([]);
    } finally {
      bob.load = usual;
    }
  });

  it('should continue the answer on carol when bob dies mid-answer, the text accumulated once', async () => {
    const dying = await machine('bob', [PEER_MODEL]);
    views = [await peerView(dying), await peerView(carol, 2)];
    const g = new MeshGateway(
      { nodeName: () => 'alice', specializations: () => [], defaultPolicy: () => ({ kind: 'auto' }) },
      {
        backend: alice.backend,
        localModels: alice.models,
        load: alice.load,
        measurements: new PeerMeasurements(),
        hardware: async () => roomy,
        logger,
        peers: { peerId: 'alice', peers: () => views },
        remote: peersPort([dying, carol], served),
      },
    );
    try {
      dying.sim.setFaults({ exitAfterTokens: 5 });
      const messages = ask('tell me about failover in some detail, please');
      const stream = await g.generate('chat', { model: PEER_MODEL, messages }, new AbortController().signal);
      let text = contentOf(stream.first);
      for await (const batch of stream.rest) for (const chunk of batch) text += contentOf(chunk);
      expect(text).toBe(expectedAnswer(PEER_MODEL, messages));
      expect(stream.answer.content).toBe(text);
      expect(stream.servedBy()).toEqual({ node: 'carol', failovers: 1 });
      const continued = served.find((s) => s.peerId === 'carol')!;
      const sent = continued.request.body.messages as Array<{ role: string; content: string }>;
      expect(sent.at(-1)?.role).toBe('assistant');
      expect(expectedAnswer(PEER_MODEL, messages).startsWith(sent.at(-1)!.content)).toBe(true);
    } finally {
      await close(dying);
    }
  });

  it("should read a finished peer's stream to its end (infer-done) rather than cancel it", async () => {
    const stream = await gateway().generate(
      'chat',
      { model: PEER_MODEL, messages: ask('a clean end') },
      new AbortController().signal,
    );
    // As the HTTP layer does: stop at the done chunk, then return the iterator.
    const iterator = stream.rest[Symbol.asyncIterator]();
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
      if (next.value.some((chunk) => chunk.done === true)) break;
    }
    await iterator.return?.();
    expect(await served[0]!.over).toBe('ended');
    expect(served[0]!.aborted()).toBe(false);
    expect(measurements.forNode('bob', undefined).perModel[PEER_MODEL]?.tokensPerSecond).toBeGreaterThan(0);
  });

  it("should not learn a peer's prompt rate from a turn its KV cache mostly held", async () => {
    const g = gateway();
    const turn = async (messages: Array<{ role: string; content: string }>) => {
      const stream = await g.generate(
        'chat',
        { model: PEER_MODEL, messages, allerac: { conversation: 'c1' } },
        new AbortController().signal,
      );
      for await (const _ of stream.rest);
      expect(stream.servedBy().node).toBe('bob');
      return expectedAnswer(PEER_MODEL, messages);
    };
    const first = ask('x '.repeat(400));
    const answer = await turn(first);
    const learnt = measurements.forNode('bob', undefined).perModel[PEER_MODEL];
    expect(learnt?.promptTokensPerSecond).toBeGreaterThan(0);
    await turn([...first, { role: 'assistant', content: answer }, { role: 'user', content: 'and then?' }]);
    const after = measurements.forNode('bob', undefined).perModel[PEER_MODEL];
    expect(after?.promptTokensPerSecond).toBe(learnt?.promptTokensPerSecond);
    expect(after?.promptOverheadMs).toBe(learnt?.promptOverheadMs);
  });

  it("should cancel the peer's generation, and free its slot, when the caller aborts mid-answer", async () => {
    carol.sim.setFaults({ stallAfterTokens: 3 });
    views = [await peerView(carol)];
    const caller = new AbortController();
    const stream = await gateway().generate(
      'chat',
      { model: PEER_MODEL, messages: ask('this one stalls') },
      caller.signal,
    );
    const iterator = stream.rest[Symbol.asyncIterator]();
    caller.abort(new Error('the client went away'));
    // Chunks already buffered before the stall may still come; then the abort, never a hang.
    const reading = (async () => {
      for (;;) if ((await iterator.next()).done === true) return undefined;
    })();
    await expect(reading).rejects.toThrow('the client went away');
    await iterator.return?.();
    expect(await served[0]!.over).toBe('cut');
    expect(served[0]!.aborted()).toBe(true);
    expect(carol.load.snapshot().activeTasks).toBe(0);
  });

  it('should refuse at once a request no inference frame holds, without dialling any peer', async () => {
    const huge = 'x'.repeat(MAX_INFER_FRAME_BYTES + 1);
    const error = await gateway()
      .generate('chat', { model: PEER_MODEL, messages: ask(huge) }, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTooLargeError);
    expect(served).toEqual([]);
  });

  it('should close a local attempt whose consumer leaves after the first chunk without reading on', async () => {
    const load = new LocalLoad(1, 0);
    const g = gateway(load);
    const chat = { model: LOCAL_MODEL, messages: ask('only the first chunk') };
    const stream = await g.generate('chat', chat, new AbortController().signal);
    expect(load.snapshot().activeTasks).toBe(1);
    await stream.rest[Symbol.asyncIterator]().return?.();
    expect(load.snapshot().activeTasks).toBe(0);
  });

  it('should embed through the same loop: a busy peer moves on to the next', async () => {
    const busyBob = bob.load;
    bob.load = new LocalLoad(1, 0);
    const held = await bob.load.acquire(new AbortController().signal);
    try {
      const { response, servedBy } = await gateway().embed(
        { model: EMBED_MODEL, input: ['hello'] },
        new AbortController().signal,
      );
      expect(servedBy).toEqual({ node: 'carol', failovers: 1 });
      expect(Array.isArray(response.embeddings)).toBe(true);
      expect(served.map((s) => [s.peerId, s.request.api])).toEqual([
        ['bob', 'embed'],
        ['carol', 'embed'],
      ]);
      expect(await served[1]!.over).toBe('ended');
    } finally {
      held();
      bob.load = busyBob;
    }
  });
});
