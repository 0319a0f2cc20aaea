/**
 * INFER_CHANNEL_PROTOCOL end to end in process: the requester's channel pool and the responder's
 * handler over a libp2p stream pair (the mock muxer of @libp2p/utils), with a scripted backend.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Mesh } from '@allerac/mesh';
import {
  encodeFrame,
  encodeVarint,
  FrameDecoder,
  FrameTooLargeError,
  INFER_CHANNEL_PROTOCOL,
  INFER_CHUNK_WINDOW,
  type InferRequestMessage,
  MAX_FRAME_BYTES,
  MAX_INFER_IN_FLIGHT,
  type Message,
  PROTOCOL_MESSAGE_TYPES,
} from '@allerac/protocol';
import type { Stream } from '@libp2p/interface';
import { streamPair } from '@libp2p/utils';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Backend, OllamaObject } from '../src/backend/backend.js';
import { PeerLostError, PeerStreamLimitError, RequestTooLargeError } from '../src/inference/errors.js';
import { createInferChannelHandler } from '../src/inference/infer-channel-server.js';
import { chunkFrame, jsonFrame } from '../src/inference/infer-frames.js';
import { LocalLoad } from '../src/inference/local-load.js';
import { createRemoteInference, remoteInference } from '../src/inference/remote-inference.js';
import { waitFor } from './helpers/test-node.js';

const PEER = '12D3KooWResponder';
const DEADLINES = { firstChunkMs: 10_000, idleMs: 10_000 };

/**
 * A backend whose chat streams `n` chunks tagged `tag` (from the request body); `hold: true` waits
 * for the caller's abort instead. It records what each generation produced and whether it was aborted.
 */
class ScriptedBackend {
  readonly produced = new Map<string, number>();
  readonly aborted = new Set<string>();
  readonly started = new Set<string>();

  /** One batch per chunk, as Ollama's reads deliver them when tokens come slower than reads. */
  async *chat(body: OllamaObject, signal: AbortSignal): AsyncGenerator<readonly OllamaObject[]> {
    const tag = String(body.tag);
    this.started.add(tag);
    try {
      if (body.hold === true) {
        await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      }
      const n = Number(body.n);
      for (let i = 0; i < n; i++) {
        signal.throwIfAborted();
        if (i === body.stallAfter) {
          await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
        }
        this.produced.set(tag, i + 1);
        yield [{ model: body.model, message: { role: 'assistant', content: `${tag}:${i}` }, done: false }];
        // Let the stream's events run between chunks, as a real backend's network reads do.
        await new Promise((resolve) => setImmediate(resolve));
      }
      yield [{ model: body.model, message: { role: 'assistant', content: '' }, done: true, eval_count: n }];
    } catch (error) {
      if (signal.aborted) this.aborted.add(tag);
      throw error;
    }
  }
}

/** A mesh of one peer whose every inference stream is served by `serve` on the other end of a pair. */
function meshTo(serve: (stream: Stream) => void) {
  const opened: Stream[] = [];
  const served: Stream[] = [];
  const events = new EventTarget();
  const mesh = {
    openStream: async (_peer: string, protocol: string) => {
      expect(protocol).toBe(INFER_CHANNEL_PROTOCOL);
      const [outbound, inbound] = await streamPair();
      opened.push(outbound);
      served.push(inbound);
      serve(inbound);
      return outbound;
    },
    addEventListener: events.addEventListener.bind(events),
    removeEventListener: events.removeEventListener.bind(events),
    dispatchEvent: events.dispatchEvent.bind(events),
    peers: () => [],
  } as unknown as Mesh;
  return { mesh, opened, served };
}

/** A mesh to a responder running the real channel handler over `backend`. */
function meshToResponder(backend = new ScriptedBackend()) {
  const handler = createInferChannelHandler({
    backend: backend as unknown as Backend,
    load: new LocalLoad(64, 64, () => {}, 1),
    logger: pino({ level: 'silent' }),
  });
  return { backend, ...meshTo((stream) => void handler(stream, 'requester')) };
}

let ids = 0;
function chat(body: Record<string, unknown>): InferRequestMessage {
  return { type: 'infer-request', id: `r${++ids}`, api: 'chat', model: 'm', body, deadlineMs: 60_000 };
}

/** Reads a whole answer; returns the content of each chunk. */
async function readAll(chunks: AsyncGenerator<OllamaObject, unknown>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of chunks) out.push(String((chunk.message as { content: string }).content));
  return out;
}

describe('inference channel frames', () => {
  it('should encode a chunk frame to the very bytes of the codec, without stringifying the envelope', () => {
    const chunk = { model: 'm', message: { role: 'assistant', content: 'é "quoted" \n' }, done: false };
    const id = 'req-"1"';
    expect(Buffer.from(chunkFrame(JSON.stringify(id), chunk))).toEqual(
      Buffer.from(encodeFrame({ type: 'infer-chunk', id, chunk })),
    );
  });

  it('should refuse a frame past the protocol limit before allocating it', () => {
    expect(() => jsonFrame('x'.repeat(MAX_FRAME_BYTES[INFER_CHANNEL_PROTOCOL] + 1))).toThrow(
      FrameTooLargeError,
    );
  });
});

describe('inference channel', () => {
  it('should carry many concurrent requests over one stream, each getting only its own chunks', async () => {
    const { mesh, opened } = meshToResponder();
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        readAll(
          remoteInference(mesh, PEER, chat({ tag: `t${i}`, n: 50 }), new AbortController().signal, DEADLINES),
        ),
      ),
    );
    for (const [i, answer] of answers.entries()) {
      expect(answer).toEqual([...Array.from({ length: 50 }, (_, k) => `t${i}:${k}`), '']);
    }
    expect(opened.length).toBe(1);
  });

  it('should open the channel when the peer joins, so that no request waits for a stream', async () => {
    const { mesh, opened } = meshToResponder();
    const infer = createRemoteInference(mesh);
    expect(opened.length).toBe(0);
    mesh.dispatchEvent(new CustomEvent('peer:join', { detail: { id: PEER, status: 'online' } }));
    await waitFor(() => opened.length === 1, 5_000, 'the channel to open');
    expect(
      await readAll(infer(PEER, chat({ tag: 'w', n: 1 }), new AbortController().signal, DEADLINES)),
    ).toEqual(['w:0', '']);
    expect(opened.length).toBe(1);
  });

  it('should refuse a request no frame holds with RequestTooLargeError, sending nothing', async () => {
    const { mesh, backend } = meshToResponder();
    const huge = chat({ tag: 'huge', n: 1, prompt: 'x'.repeat(MAX_FRAME_BYTES[INFER_CHANNEL_PROTOCOL]) });
    await expect(
      readAll(remoteInference(mesh, PEER, huge, new AbortController().signal, DEADLINES)),
    ).rejects.toBeInstanceOf(RequestTooLargeError);
    expect(
      await readAll(
        remoteInference(mesh, PEER, chat({ tag: 'ok', n: 1 }), new AbortController().signal, DEADLINES),
      ),
    ).toEqual(['ok:0', '']);
    expect(backend.started.has('huge')).toBe(false);
  });

  it('should stop only the cancelled generation and let the others on the channel finish', async () => {
    const { mesh, backend, opened } = meshToResponder();
    const cancel = new AbortController();
    const held = remoteInference(mesh, PEER, chat({ tag: 'held', hold: true }), cancel.signal, DEADLINES);
    const heldDone = held.next();
    const others = Array.from({ length: 4 }, (_, i) =>
      readAll(
        remoteInference(mesh, PEER, chat({ tag: `o${i}`, n: 100 }), new AbortController().signal, DEADLINES),
      ),
    );
    await waitFor(
      () => [0, 1, 2, 3].some((i) => (backend.produced.get(`o${i}`) ?? 0) > 0),
      5_000,
      'others to run',
    );
    cancel.abort(new Error('the client went away'));
    await expect(heldDone).rejects.toThrow('the client went away');
    await waitFor(() => backend.aborted.has('held'), 5_000, 'the responder to stop the cancelled generation');
    for (const answer of await Promise.all(others)) expect(answer.length).toBe(101);
    expect(backend.aborted.size).toBe(1);
    expect(opened.length).toBe(1);
  });

  it('should let a stalled reader hold back only its own answer, to one credit window', async () => {
    const { mesh, backend } = meshToResponder();
    const idle = { firstChunkMs: 10_000, idleMs: 50 };
    const stalled = remoteInference(
      mesh,
      PEER,
      chat({ tag: 'slow', n: 400 }),
      new AbortController().signal,
      idle,
    );
    expect((await stalled.next()).done).toBe(false);
    // While the slow reader reads nothing, another answer on the same channel runs to its end.
    const fast = await readAll(
      remoteInference(mesh, PEER, chat({ tag: 'fast', n: 400 }), new AbortController().signal, DEADLINES),
    );
    expect(fast.length).toBe(401);
    await waitFor(
      () => (backend.produced.get('slow') ?? 0) >= INFER_CHUNK_WINDOW,
      5_000,
      'the window to fill',
    );
    // The stall outlasts the slow answer's idle deadline: the wait is its reader's, not the peer's.
    await sleep(3 * idle.idleMs);
    // Back-pressure reached the backend: it produced no more than the window (and the chunk read).
    expect(backend.produced.get('slow')).toBeLessThanOrEqual(INFER_CHUNK_WINDOW + 2);
    expect((await readAll(stalled)).length).toBe(400);
  });

  it('should fail every request in flight with PeerLostError when the stream breaks, and reopen for the next', async () => {
    const { mesh, backend, served, opened } = meshToResponder();
    const running = Array.from({ length: 3 }, (_, i) =>
      readAll(
        remoteInference(
          mesh,
          PEER,
          chat({ tag: `b${i}`, n: 1_000_000 }),
          new AbortController().signal,
          DEADLINES,
        ),
      ),
    );
    await waitFor(
      () => [0, 1, 2].every((i) => (backend.produced.get(`b${i}`) ?? 0) > 0),
      5_000,
      'all to run',
    );
    served[0]?.abort(new Error('connection lost'));
    for (const outcome of await Promise.allSettled(running)) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(PeerLostError);
    }
    await waitFor(() => [0, 1, 2].every((i) => backend.aborted.has(`b${i}`)), 5_000, 'the responder to stop');
    expect(
      await readAll(
        remoteInference(mesh, PEER, chat({ tag: 'next', n: 3 }), new AbortController().signal, DEADLINES),
      ),
    ).toEqual(['next:0', 'next:1', 'next:2', '']);
    expect(opened.length).toBe(2);
  });

  it('should cancel a request whose peer sends no first chunk in time, and leave the channel open', async () => {
    const { mesh, backend, opened } = meshToResponder();
    const quick = { firstChunkMs: 100, idleMs: 10_000 };
    await expect(
      readAll(
        remoteInference(mesh, PEER, chat({ tag: 'silent', hold: true }), new AbortController().signal, quick),
      ),
    ).rejects.toBeInstanceOf(PeerLostError);
    await waitFor(() => backend.aborted.has('silent'), 5_000, 'the responder to stop the silent generation');
    expect(
      await readAll(
        remoteInference(mesh, PEER, chat({ tag: 'after', n: 1 }), new AbortController().signal, DEADLINES),
      ),
    ).toEqual(['after:0', '']);
    expect(opened.length).toBe(1);
  });

  it('should cancel a request whose peer falls silent mid-answer while its reader waits', async () => {
    const { mesh, backend } = meshToResponder();
    const idle = { firstChunkMs: 10_000, idleMs: 100 };
    const chunks = remoteInference(
      mesh,
      PEER,
      chat({ tag: 'mute', n: 10, stallAfter: 2 }),
      new AbortController().signal,
      idle,
    );
    await expect(readAll(chunks)).rejects.toThrow(/stalled/);
    await waitFor(() => backend.aborted.has('mute'), 5_000, 'the responder to stop the stalled generation');
    expect(backend.produced.get('mute')).toBe(2);
  });

  it('should refuse a request past MAX_INFER_IN_FLIGHT before sending it, as a busy peer', async () => {
    const { mesh } = meshToResponder();
    const hold = new AbortController();
    const held = Array.from({ length: MAX_INFER_IN_FLIGHT }, (_, i) => {
      const g = remoteInference(mesh, PEER, chat({ tag: `h${i}`, hold: true }), hold.signal, DEADLINES);
      return g.next().catch(() => undefined);
    });
    const extra = remoteInference(
      mesh,
      PEER,
      chat({ tag: 'extra', n: 1 }),
      new AbortController().signal,
      DEADLINES,
    );
    // The first requests may still be opening the channel: wait until they are all sent.
    await waitFor(
      async () => {
        try {
          await extra.next();
          return false;
        } catch (error) {
          return error instanceof PeerStreamLimitError;
        }
      },
      5_000,
      'the extra request to be refused',
    );
    hold.abort(new Error('test over'));
    await Promise.all(held);
  });
});

/** A requester-side view of a raw stream: frames written and read by hand, to play a hostile peer. */
function raw(stream: Stream, allowed: Message['type'][]) {
  const decoder = new FrameDecoder({
    maxFrameBytes: MAX_FRAME_BYTES[INFER_CHANNEL_PROTOCOL],
    allowedTypes: allowed,
  });
  const received: Message[] = [];
  let closed = false;
  stream.addEventListener('message', (event) => {
    const data = event.data;
    received.push(...decoder.push(data instanceof Uint8Array ? data : data.subarray()));
  });
  stream.addEventListener('close', () => {
    closed = true;
  });
  return {
    received,
    closed: () => closed,
    send: (message: Message) => stream.send(encodeFrame(message)),
    write: (bytes: Uint8Array) => stream.send(bytes),
  };
}

describe('inference channel with a hostile responder', () => {
  const responderTypes = PROTOCOL_MESSAGE_TYPES[INFER_CHANNEL_PROTOCOL].filter((t) => t !== 'infer-credit');

  async function attack(
    act: (peer: ReturnType<typeof raw>, request: InferRequestMessage, stream: Stream) => void,
  ) {
    let peer: ReturnType<typeof raw> | undefined;
    let stream: Stream | undefined;
    const { mesh } = meshTo((s) => {
      stream = s;
      peer = raw(s, ['infer-request', 'infer-cancel', 'infer-credit']);
    });
    const chunks = remoteInference(
      mesh,
      PEER,
      chat({ tag: 'victim', n: 5 }),
      new AbortController().signal,
      DEADLINES,
    );
    const outcome = readAll(chunks);
    await waitFor(() => (peer?.received.length ?? 0) > 0, 5_000, 'the request to arrive');
    const request = peer!.received[0] as InferRequestMessage;
    act(peer!, request, stream!);
    await expect(outcome).rejects.toBeInstanceOf(PeerLostError);
    await waitFor(() => peer!.closed(), 5_000, 'the requester to reset the channel');
  }

  it('should cut the channel off for a chunk of a request it never sent', async () => {
    expect(responderTypes).toContain('infer-chunk');
    await attack((peer) => peer.send({ type: 'infer-chunk', id: 'never-sent', chunk: {} }));
  });

  it('should cut the channel off for more chunks than the credit window', async () => {
    await attack((peer, request) => {
      for (let i = 0; i <= INFER_CHUNK_WINDOW; i++)
        peer.send({ type: 'infer-chunk', id: request.id, chunk: { message: { content: `${i}` } } });
    });
  });

  it('should cut the channel off for a frame longer than the protocol allows, before reading it', async () => {
    await attack((_peer, _request, stream) => {
      stream.send(encodeVarint(MAX_FRAME_BYTES[INFER_CHANNEL_PROTOCOL] + 1));
    });
  });

  it('should cut the channel off for a message type a responder never sends', async () => {
    await attack((peer, request) => peer.send({ type: 'infer-credit', id: request.id, chunks: 1 }));
  });
});

describe('inference channel with a hostile requester', () => {
  async function requester() {
    const backend = new ScriptedBackend();
    const [outbound, inbound] = await streamPair();
    void createInferChannelHandler({
      backend: backend as unknown as Backend,
      load: new LocalLoad(64, 64, () => {}, 1),
      logger: pino({ level: 'silent' }),
    })(inbound, 'mallory');
    return { backend, peer: raw(outbound, ['infer-chunk', 'infer-done', 'infer-error']) };
  }

  it(`should answer busy to request ${MAX_INFER_IN_FLIGHT + 1} in flight and keep serving the others`, async () => {
    const { backend, peer } = await requester();
    for (let i = 0; i < MAX_INFER_IN_FLIGHT; i++)
      peer.send({ ...chat({ tag: `m${i}`, hold: true }), id: `m${i}` });
    peer.send({ ...chat({ tag: 'over', n: 1 }), id: 'over' });
    await waitFor(
      () => peer.received.some((m) => m.type === 'infer-error' && m.id === 'over'),
      5_000,
      'the refusal',
    );
    expect(peer.received.find((m) => m.type === 'infer-error' && m.id === 'over')).toMatchObject({
      code: 'busy',
      retryable: true,
    });
    expect(backend.produced.has('over')).toBe(false);
    peer.send({ type: 'infer-cancel', id: 'm0' });
    await waitFor(
      () => peer.received.some((m) => m.type === 'infer-error' && m.id === 'm0'),
      5_000,
      'the cancel',
    );
    expect(peer.received.find((m) => m.type === 'infer-error' && m.id === 'm0')).toMatchObject({
      code: 'cancelled',
    });
    expect(peer.closed()).toBe(false);
  });

  it('should reset the channel, stopping every generation, for a request id already running', async () => {
    const { backend, peer } = await requester();
    peer.send({ ...chat({ tag: 'first', hold: true }), id: 'dup' });
    await waitFor(() => backend.started.has('first'), 5_000, 'the request to start');
    peer.send({ ...chat({ tag: 'second', n: 1 }), id: 'dup' });
    await waitFor(() => peer.closed(), 5_000, 'the responder to reset the channel');
    await waitFor(() => backend.aborted.has('first'), 5_000, 'the running generation to stop');
  });

  it('should reset the channel for credit past the window', async () => {
    const { peer } = await requester();
    peer.send({ ...chat({ tag: 'c', n: 1_000_000 }), id: 'c' });
    await waitFor(() => peer.received.length > 0, 5_000, 'the first chunk');
    // Twice the window in one write: past it whatever the responder has sent meanwhile.
    const credit = encodeFrame({ type: 'infer-credit', id: 'c', chunks: INFER_CHUNK_WINDOW });
    peer.write(Buffer.concat([credit, credit]));
    await waitFor(() => peer.closed(), 5_000, 'the responder to reset the channel');
  });

  it('should answer a request its backend cannot run with infer-error, and keep the channel', async () => {
    const { peer } = await requester();
    const rejected = { ...chat({ tag: 'x', n: 1 }), id: 'bad', api: 'generate' as const };
    peer.send(rejected);
    await waitFor(() => peer.received.some((m) => m.type === 'infer-error'), 5_000, 'an answer');
    // The scripted backend has no generate: the responder's failure is answered, the channel stays.
    expect(peer.received[0]).toMatchObject({ type: 'infer-error', id: 'bad', code: 'internal' });
    expect(peer.closed()).toBe(false);
  });
});
