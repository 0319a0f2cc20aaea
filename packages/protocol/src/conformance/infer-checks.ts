/**
 * Conformance checks of a responder of INFER_CHANNEL_PROTOCOL (protocol.md §4, "Inference
 * channel"): multiplexing, per-request cancel, the credit window, and the reset of a channel that
 * breaks its rules. The subject must serve `model` (a chat model that can answer at length) from
 * a backend that streams, and accept a paired peer without a card.
 *
 * @example
 * ```ts
 * runInferConformanceTests(async () => {
 *   const node = await startMyNode();
 *   return { subject: { multiaddrs: node.addresses(), meshKey: node.meshKey, model: 'llama3.2:3b' }, teardown: () => node.stop() };
 * });
 * ```
 */
import type { Stream } from '@libp2p/interface';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, encodeVarint, FrameDecoder } from '../codec.js';
import { INFER_CHANNEL_PROTOCOL, INFER_CHUNK_WINDOW, MAX_FRAME_BYTES } from '../constants.js';
import type { InferRequestMessage, Message } from '../messages.js';
import type { ConformanceSubject } from './index.js';
import { createProber, type Prober, waitUntil } from './prober.js';

/** How to reach an inference responder, and the model it serves. */
export interface InferConformanceSubject extends ConformanceSubject {
  /** A chat model the subject serves. */
  model: string;
}

/** What the setup function returns. */
export interface InferConformanceSetup {
  /** The running implementation. */
  subject: InferConformanceSubject;
  /** Stops it and removes its files. */
  teardown(): Promise<void>;
}

/** One channel opened by the suite, read by hand. */
interface RawChannel {
  received: Message[];
  closed(): boolean;
  send(message: Message): void;
  write(bytes: Uint8Array): void;
  of(id: string): Message[];
  /** Proves the channel is served: a `ps` round trip. */
  live(): Promise<void>;
  /** Resets it, so the subject's per-peer stream limit never refuses the next check's channel. */
  done(): void;
}

/** Registers the inference channel checks against the subject from `setup`. */
export function runInferConformanceTests(
  setup: () => Promise<InferConformanceSetup>,
  options: { reactionTimeoutMs?: number } = {},
): void {
  const reaction = options.reactionTimeoutMs ?? 15_000;
  const testTimeout = reaction * 4;

  describe('allerac inference channel conformance', () => {
    let context: InferConformanceSetup;
    let target: Multiaddr;
    let prober: Prober;
    let ids = 0;

    const channel = async (): Promise<RawChannel> => {
      const stream: Stream = await prober.node.dialProtocol(target, INFER_CHANNEL_PROTOCOL, {
        signal: AbortSignal.timeout(reaction),
      });
      const decoder = new FrameDecoder({
        maxFrameBytes: MAX_FRAME_BYTES[INFER_CHANNEL_PROTOCOL],
        allowedTypes: ['infer-chunk', 'infer-done', 'infer-error'],
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
        send: (message) => {
          stream.send(encodeFrame(message));
        },
        write: (bytes) => {
          stream.send(bytes);
        },
        of: (id) => received.filter((m) => 'id' in m && m.id === id),
        live: async () => {
          const id = `ps-${++ids}`;
          stream.send(
            encodeFrame({ type: 'infer-request', id, api: 'ps', model: '*', body: {}, deadlineMs: 5_000 }),
          );
          await waitUntil('a ps answer on the channel', reaction, () =>
            received.some((m) => m.type === 'infer-done' && m.id === id),
          );
        },
        done: () => stream.abort(new Error('check over')),
      };
    };
    const opened: RawChannel[] = [];
    const open = async (): Promise<RawChannel> => {
      const c = await channel();
      opened.push(c);
      return c;
    };
    const chat = (numPredict: number): InferRequestMessage => ({
      type: 'infer-request',
      id: `conformance-${++ids}`,
      api: 'chat',
      model: context.subject.model,
      body: {
        messages: [{ role: 'user', content: 'Tell me a long story.' }],
        options: { num_predict: numPredict },
      },
      deadlineMs: 120_000,
    });
    const closing = (c: RawChannel, id: string) =>
      c.of(id).find((m) => m.type === 'infer-done' || m.type === 'infer-error');
    const chunks = (c: RawChannel, id: string) => c.of(id).filter((m) => m.type === 'infer-chunk').length;

    beforeAll(async () => {
      context = await setup();
      const address = context.subject.multiaddrs.find((a) => a.includes('/p2p/'));
      if (address === undefined) throw new Error('the subject has no multiaddr with /p2p/');
      target = multiaddr(address);
      prober = await createProber(context.subject.meshKey);
      await prober.node.dial(target, { signal: AbortSignal.timeout(reaction) });
    }, 60_000);

    afterEach(() => {
      for (const c of opened.splice(0)) c.done();
    });

    afterAll(async () => {
      await prober?.stop();
      await context?.teardown();
    }, 60_000);

    it(
      'should answer ps with one chunk and infer-done, and serve the next request on the same stream',
      async () => {
        const c = await open();
        for (const id of ['ps-1', 'ps-2']) {
          c.send({ type: 'infer-request', id, api: 'ps', model: '*', body: {}, deadlineMs: 5_000 });
          await waitUntil(`the answer to ${id}`, reaction, () => closing(c, id) !== undefined);
          expect(c.of(id).map((m) => m.type)).toEqual(['infer-chunk', 'infer-done']);
        }
        expect(c.closed()).toBe(false);
      },
      testTimeout,
    );

    it(
      'should stop a cancelled request with infer-error cancelled and finish another on the channel',
      async () => {
        const c = await open();
        const long = chat(100_000);
        const short = chat(5);
        c.send(long);
        c.send(short);
        await waitUntil('the long answer to start', reaction, () => chunks(c, long.id) > 0);
        c.send({ type: 'infer-cancel', id: long.id });
        // The short answer (5 tokens and the final chunk) fits in its window: no credit needed.
        await waitUntil(
          'both requests to close',
          reaction,
          () => closing(c, long.id) !== undefined && closing(c, short.id) !== undefined,
        );
        expect(closing(c, long.id)).toMatchObject({ type: 'infer-error', code: 'cancelled' });
        expect(closing(c, short.id)?.type).toBe('infer-done');
        expect(c.closed()).toBe(false);
      },
      testTimeout,
    );

    it(
      'should send no chunk past the credit window, and resume when credit comes',
      async () => {
        const c = await open();
        const long = chat(100_000);
        c.send(long);
        await waitUntil('the window to fill', reaction, () => chunks(c, long.id) >= INFER_CHUNK_WINDOW);
        // A round trip through the subject: a chunk past the window would have arrived by now.
        c.send({
          type: 'infer-request',
          id: 'ps-window',
          api: 'ps',
          model: '*',
          body: {},
          deadlineMs: 5_000,
        });
        await waitUntil('the ps answer', reaction, () => closing(c, 'ps-window') !== undefined);
        expect(chunks(c, long.id)).toBe(INFER_CHUNK_WINDOW);
        c.send({ type: 'infer-credit', id: long.id, chunks: INFER_CHUNK_WINDOW / 2 });
        await waitUntil(
          'the granted chunks',
          reaction,
          () => chunks(c, long.id) === INFER_CHUNK_WINDOW + INFER_CHUNK_WINDOW / 2,
        );
        c.send({ type: 'infer-cancel', id: long.id });
        await waitUntil('the cancel', reaction, () => closing(c, long.id) !== undefined);
        expect(chunks(c, long.id)).toBe(INFER_CHUNK_WINDOW + INFER_CHUNK_WINDOW / 2);
      },
      testTimeout,
    );

    it(
      'should reset the channel for a request whose id is already running',
      async () => {
        const c = await open();
        const long = chat(100_000);
        c.send(long);
        await waitUntil('the answer to start', reaction, () => chunks(c, long.id) > 0);
        c.send({ ...chat(5), id: long.id });
        await waitUntil('the subject to reset the channel', reaction, () => c.closed());
      },
      testTimeout,
    );

    it(
      'should reset the channel for credit past the window',
      async () => {
        const c = await open();
        const long = chat(100_000);
        c.send(long);
        await waitUntil('the answer to start', reaction, () => chunks(c, long.id) > 0);
        const credit = encodeFrame({ type: 'infer-credit', id: long.id, chunks: INFER_CHUNK_WINDOW });
        const twice = new Uint8Array(credit.length * 2);
        twice.set(credit, 0);
        twice.set(credit, credit.length);
        c.write(twice);
        await waitUntil('the subject to reset the channel', reaction, () => c.closed());
      },
      testTimeout,
    );

    it(
      'should reset the channel for a message type a requester never sends',
      async () => {
        const c = await open();
        await c.live();
        c.send({ type: 'infer-chunk', id: 'x', chunk: {} });
        await waitUntil('the subject to reset the channel', reaction, () => c.closed());
      },
      testTimeout,
    );

    it(
      'should reset the channel for a frame longer than the limit, before its payload',
      async () => {
        const c = await open();
        await c.live();
        c.write(encodeVarint(MAX_FRAME_BYTES[INFER_CHANNEL_PROTOCOL] + 1));
        await waitUntil('the subject to reset the channel', reaction, () => c.closed());
      },
      testTimeout,
    );
  });
}
