/**
 * One attempt on one candidate: this node's backend in one of its slots, or a peer through the
 * remote-inference port, never past the streams the peer accepts nor past its frame size.
 */
import { randomUUID } from 'node:crypto';
import {
  INFER_CHANNEL_PROTOCOL,
  type InferApi,
  type InferRequestMessage,
  type InferStats,
  MAX_FRAME_BYTES,
  MAX_INFER_IN_FLIGHT,
} from '@allerac/protocol';
import type { Placement } from '@allerac/router';
import type { Backend, OllamaObject } from '../backend/backend.js';
import { PeerLostError, PeerStreamLimitError, RequestTooLargeError } from './errors.js';
import type { GenerationKind, PreparedRequest, PrepareRequest } from './gateway.js';
import type { GatewayCandidates } from './gateway-candidates.js';
import type { RemoteInference } from './gateway-ports.js';
import type { LocalLoad } from './local-load.js';

/** Until the first chunk: queueing plus loading a large model from disk on a slow box. */
export const FIRST_CHUNK_DEADLINE_MS = 120_000;
/** A stream silent this long mid-answer counts as stalled, and the answer moves on. */
export const STALL_DEADLINE_MS = 30_000;
/** The whole generation on a peer. */
export const GENERATION_DEADLINE_MS = 15 * 60_000;
/**
 * After the `done` chunk, how long the end of the stream (a peer's `infer-done`, the local
 * response's end) may take before the attempt is cut: it follows at once, and the client's
 * response ends only after it.
 */
export const SETTLE_DEADLINE_MS = 1_000;
/** A peer answers `busy` past this many requests in flight on its channel; never send more. */
const PEER_STREAM_LIMIT = MAX_INFER_IN_FLIGHT;
/** Largest inference request a peer's frame holds. */
const MAX_INFER_FRAME = MAX_FRAME_BYTES[INFER_CHANNEL_PROTOCOL];

/** One started attempt on one candidate: its first chunk has arrived. */
export interface Attempt {
  placement: Placement;
  /** What was sent there, and what may follow from it. */
  prepared: PreparedRequest;
  first: OllamaObject;
  /**
   * The chunks after the first, in batches (never an empty one): as the local Ollama's reads
   * delivered them, one per chunk from a peer. Returns the peer's stats once its stream ended
   * cleanly.
   */
  rest: AsyncGenerator<readonly OllamaObject[], InferStats | undefined>;
  ttftMs: number;
  /** Cuts the attempt (cancels the peer's generation, or the local request). */
  cancel(reason: Error): void;
}

/** What attempts use. */
export interface GatewayAttemptsComponents {
  backend: Backend;
  load: LocalLoad;
  candidates: GatewayCandidates;
  remote: () => RemoteInference;
}

/** Starts generations and embeddings on one placed node. */
export class GatewayAttempts {
  constructor(private readonly components: GatewayAttemptsComponents) {}

  /** Starts a generation on `placement` and waits for its first chunk. */
  async generate(
    kind: GenerationKind,
    unprepared: OllamaObject,
    placement: Placement,
    signal: AbortSignal,
    prepare: PrepareRequest | undefined,
  ): Promise<Attempt> {
    const { candidates } = this.components;
    const startedAt = performance.now();
    // What goes into the request is decided here, once the node is known: private context is
    // added only for this node, and a retry elsewhere is prepared afresh for that node.
    const prepared: PreparedRequest =
      prepare === undefined
        ? { body: unprepared }
        : await prepare(unprepared, {
            ...candidates.servingNode(placement),
            modelLoaded: await candidates.isLoaded(placement),
          });
    const body = { ...prepared.body, model: placement.model };
    const controller = new AbortController();
    const attemptSignal = AbortSignal.any([signal, controller.signal]);
    const source = candidates.isLocal(placement)
      ? await this.local(kind, body, attemptSignal)
      : this.remote(kind, body, placement, attemptSignal, GENERATION_DEADLINE_MS);
    try {
      const head = await source.next();
      if (head.done === true || head.value.length === 0)
        throw new PeerLostError(`${placement.nodeName} ended the stream before its first chunk`);
      const [first, ...more] = head.value;
      return {
        placement,
        prepared,
        first: first!,
        // The first read often carries more than the first chunk: those come first.
        rest: more.length === 0 ? source : after(more, source),
        ttftMs: performance.now() - startedAt,
        cancel: (reason) => controller.abort(reason),
      };
    } catch (error) {
      controller.abort(error);
      await source.return(undefined);
      throw error;
    }
  }

  /** Computes embeddings on `placement`; a peer's stream is read to its end. */
  async embed(body: OllamaObject, placement: Placement, signal: AbortSignal): Promise<OllamaObject> {
    if (this.components.candidates.isLocal(placement)) return this.components.backend.embed(body, signal);
    const chunks = this.remote('embed', body, placement, signal, FIRST_CHUNK_DEADLINE_MS);
    try {
      const first = await chunks.next();
      const embedding = first.done === true ? undefined : first.value[0];
      if (embedding === undefined) throw new PeerLostError(`${placement.nodeName} sent no embedding`);
      // Reading on to infer-done closes the stream cleanly rather than cancelling it.
      await chunks.next();
      return embedding;
    } finally {
      await chunks.return(undefined);
    }
  }

  private async local(
    kind: GenerationKind,
    body: OllamaObject,
    signal: AbortSignal,
  ): Promise<AsyncGenerator<readonly OllamaObject[], undefined>> {
    const release = await this.components.load.acquire(signal);
    const backend = this.components.backend;
    return (async function* () {
      try {
        yield* kind === 'chat' ? backend.chat(body, signal) : backend.generate(body, signal);
        return undefined;
      } finally {
        release();
      }
    })();
  }

  /** A peer's answer through the port, counted against the streams the peer accepts. */
  private remote(
    api: InferApi,
    body: OllamaObject,
    placement: Placement,
    signal: AbortSignal,
    deadlineMs: number,
  ): AsyncGenerator<readonly OllamaObject[], InferStats | undefined> {
    const { candidates } = this.components;
    const request: InferRequestMessage = {
      type: 'infer-request',
      id: randomUUID(),
      api,
      model: placement.model,
      body,
      deadlineMs,
      // `failovers` stays unset: the protocol calls it informative, and no responder reads it.
    };
    const remote = this.components.remote();
    return (async function* () {
      // Before dialling: a request no frame holds would be refused by every peer alike.
      assertFitsFrame(request);
      if (candidates.openOn(placement.nodeId) >= PEER_STREAM_LIMIT)
        throw new PeerStreamLimitError(placement.nodeName, PEER_STREAM_LIMIT);
      const uncount = candidates.countOpen(placement.nodeId);
      try {
        const chunks = remote(placement.nodeId, request, signal, {
          firstChunkMs: FIRST_CHUNK_DEADLINE_MS,
          idleMs: STALL_DEADLINE_MS,
        });
        try {
          for (;;) {
            const read = await chunks.next();
            if (read.done === true) return read.value;
            yield [read.value];
          }
        } finally {
          await chunks.return(undefined);
        }
      } finally {
        uncount();
      }
    })();
  }
}

/**
 * `first`, then the batches of `rest`; its result is `rest`'s. Returning it closes `rest` even
 * before anything was read: a generator never started skips its body on return(), and `rest` is
 * the attempt, whose close frees the node's slot or cancels the peer's generation.
 */
function after<T, R>(first: T, rest: AsyncGenerator<T, R>): AsyncGenerator<T, R> {
  const joined = (async function* () {
    yield first;
    return yield* rest;
  })();
  const returnJoined = joined.return.bind(joined);
  joined.return = async (value) => {
    await rest.return(value);
    return returnJoined(value);
  };
  return joined;
}

/**
 * Throws RequestTooLargeError when the request's frame payload (its JSON, as the codec encodes
 * it) exceeds the inference frame limit. A walk bounds the size first, so that only a request
 * near the limit pays for a JSON encoding of its own (a 30 MiB body takes hundreds of ms).
 */
export function assertFitsFrame(request: InferRequestMessage): void {
  if (jsonBytesAtMost(request, MAX_INFER_FRAME) <= MAX_INFER_FRAME) return;
  const bytes = Buffer.byteLength(JSON.stringify(request), 'utf8');
  if (bytes > MAX_INFER_FRAME) {
    throw new RequestTooLargeError(
      `request is too large to forward to a peer: ${bytes} bytes, more than the ${MAX_INFER_FRAME} an inference frame holds`,
    );
  }
}

/** Worst-case UTF-8 bytes of one UTF-16 unit in JSON: a `\uXXXX` escape. */
const MAX_JSON_BYTES_PER_UNIT = 6;
/** Longer than any JSON number (`-0.0000012345678901234567` is 26) or `false`. */
const MAX_JSON_SCALAR_BYTES = 32;

/**
 * An upper bound of `value`'s JSON in UTF-8 bytes, in a walk that reads string lengths only;
 * it stops counting once past `stopAt`.
 */
export function jsonBytesAtMost(value: unknown, stopAt: number): number {
  if (typeof value === 'string') return 2 + value.length * MAX_JSON_BYTES_PER_UNIT;
  if (typeof value !== 'object' || value === null) return MAX_JSON_SCALAR_BYTES;
  let total = 2;
  if (Array.isArray(value)) {
    for (const item of value) {
      total += 1 + jsonBytesAtMost(item, stopAt - total);
      if (total > stopAt) return total;
    }
    return total;
  }
  for (const [key, item] of Object.entries(value)) {
    total += 4 + key.length * MAX_JSON_BYTES_PER_UNIT + jsonBytesAtMost(item, stopAt - total);
    if (total > stopAt) return total;
  }
  return total;
}

/**
 * Reads an attempt that sent its `done` chunk to the end of its stream (a peer's `infer-done`),
 * so it closes cleanly rather than being cancelled. Cut after SETTLE_DEADLINE_MS.
 */
export async function settle(attempt: Attempt): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      attempt.cancel(new PeerLostError(`${attempt.placement.nodeName} did not end its stream`));
      resolve(undefined);
    }, SETTLE_DEADLINE_MS);
  });
  try {
    await Promise.race([attempt.rest.next(), late]);
  } catch {
    // The answer is whole already; a stream that ends badly after it changes nothing.
  } finally {
    clearTimeout(timer);
    await attempt.rest.return(undefined).catch(() => undefined);
  }
}
