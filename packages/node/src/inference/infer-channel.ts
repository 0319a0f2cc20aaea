/**
 * The requester's end of INFER_CHANNEL_PROTOCOL: one long-lived stream to a peer that carries many
 * requests, tagged by id. Each request has its own credit window (a slow reader of one answer
 * stalls only that answer), its own cancel and its own deadlines; a broken stream fails every
 * request on it with PeerLostError, as a broken version-1 stream did.
 */
import {
  FrameTooLargeError,
  INFER_CANCEL_GRACE_MS,
  INFER_CHUNK_WINDOW,
  type InferRequestMessage,
  MAX_INFER_IN_FLIGHT,
  type Message,
  UnexpectedMessageError,
} from '@allerac/protocol';
import type { Stream } from '@libp2p/interface';
import type { OllamaObject } from '../backend/backend.js';
import { PeerLostError, PeerStreamLimitError, RemoteInferenceError, RequestTooLargeError } from './errors.js';
import { FrameWriter, jsonFrame, readFrames } from './infer-frames.js';

/** Deadlines of a remote inference. */
export interface RemoteDeadlines {
  /** Until the first chunk: covers queueing and model loading on the peer. */
  firstChunkMs: number;
  /** Longest silence between chunks before the peer counts as stalled. */
  idleMs: number;
}

/** What a requester reads on a channel. */
const INBOUND_TYPES = ['infer-chunk', 'infer-done', 'infer-error'] as const;
/** Credit goes back once half the window is consumed: one small frame per 16 chunks. */
const GRANT_EVERY = INFER_CHUNK_WINDOW / 2;
/** Ids of forgotten requests remembered, so that their late frames are dropped, not a violation. */
const FORGOTTEN_IDS = 4 * MAX_INFER_IN_FLIGHT;

/** `take()` found the answer complete. */
export const DONE: unique symbol = Symbol('done');

/** One request on a channel, as its reader sees it. */
export class ChannelCall {
  private readonly queue: OllamaObject[] = [];
  /** Set once nothing more will be taken: DONE, or why it failed. */
  private terminal: typeof DONE | Error | undefined;
  private waiter: (() => void) | undefined;
  /** Chunks taken since credit was last granted. */
  private consumed = 0;
  /** Chunks the responder may still send. */
  private outstanding = INFER_CHUNK_WINDOW;
  /** Last sign of progress that was the peer's to give: a chunk, or credit we granted. */
  private lastAt = performance.now();
  private received = false;
  private timer: NodeJS.Timeout | undefined;
  private grace: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.cancel(this.signal.reason as Error);

  constructor(
    private readonly channel: InferChannel,
    readonly id: string,
    private readonly signal: AbortSignal,
    private readonly deadlines: RemoteDeadlines,
  ) {
    signal.addEventListener('abort', this.onAbort, { once: true });
    this.arm(deadlines.firstChunkMs);
  }

  /** The next chunk, DONE, or undefined when the caller must `wait()`; throws the request's failure. */
  take(): OllamaObject | typeof DONE | undefined {
    const chunk = this.queue.shift();
    if (chunk !== undefined) {
      if (++this.consumed >= GRANT_EVERY && this.terminal === undefined) {
        this.channel.send(
          jsonFrame(`{"type":"infer-credit","id":${JSON.stringify(this.id)},"chunks":${this.consumed}}`),
        );
        this.outstanding += this.consumed;
        this.consumed = 0;
        this.lastAt = performance.now();
      }
      return chunk;
    }
    if (this.terminal === DONE) return DONE;
    if (this.terminal !== undefined) throw this.terminal;
    return undefined;
  }

  /** Resolves when `take()` has something new to say. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** The reader is done with the answer: an unfinished request is cancelled. */
  release(): void {
    this.signal.removeEventListener('abort', this.onAbort);
    if (this.terminal === undefined) this.cancel(new Error('the caller stopped reading'));
  }

  /** A frame for this request arrived. */
  receive(message: Message): void {
    if (message.type === 'infer-chunk') {
      if (this.outstanding <= 0)
        throw new UnexpectedMessageError(`chunk past the credit window for request ${this.id}`);
      this.outstanding -= 1;
      if (this.terminal !== undefined) return;
      this.lastAt = performance.now();
      if (!this.received) {
        // From the first chunk on, the deadline is the longest silence.
        this.received = true;
        clearTimeout(this.timer);
        this.arm(this.deadlines.idleMs);
      }
      this.queue.push(message.chunk);
    } else if (message.type === 'infer-done') {
      this.settle(DONE);
    } else if (message.type === 'infer-error') {
      this.settle(new RemoteInferenceError(message.code, message.message, message.retryable, message.status));
    }
    this.wake();
  }

  /** The channel broke: the request fails as a lost peer, and its id is free. */
  lost(error: Error): void {
    this.settle(error);
    this.wake();
  }

  private settle(outcome: typeof DONE | Error): void {
    this.terminal ??= outcome;
    clearTimeout(this.timer);
    clearTimeout(this.grace);
    this.signal.removeEventListener('abort', this.onAbort);
    this.channel.forget(this, false);
  }

  /** Stops the request here and asks the responder to stop; its id stays taken until it answers. */
  private cancel(reason: Error): void {
    if (this.terminal !== undefined) return;
    this.terminal = reason;
    // What was not read yet is no longer wanted; a lost channel, by contrast, keeps what arrived.
    this.queue.length = 0;
    clearTimeout(this.timer);
    this.channel.send(jsonFrame(`{"type":"infer-cancel","id":${JSON.stringify(this.id)}}`));
    this.grace = setTimeout(() => {
      this.channel.forget(this, true);
    }, INFER_CANCEL_GRACE_MS);
    this.grace.unref();
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  /** Checks the deadline in `ms`: one timer per request, re-armed, never reset per chunk. */
  private arm(ms: number): void {
    if (ms <= 0) return;
    this.timer = setTimeout(() => this.check(), ms);
  }

  private check(): void {
    if (this.terminal !== undefined) return;
    const peer = this.channel.peerId;
    if (!this.received) {
      this.cancel(new PeerLostError(`peer ${peer} sent no chunk within ${this.deadlines.firstChunkMs} ms`));
      return;
    }
    const idle = this.deadlines.idleMs;
    if (idle <= 0) return;
    // Unread chunks or spent credit: the wait is this reader's, not the peer's.
    const silent = this.queue.length > 0 || this.outstanding === 0 ? 0 : performance.now() - this.lastAt;
    if (silent >= idle) {
      this.cancel(new PeerLostError(`peer ${peer} stalled: nothing for ${Math.round(silent)} ms`));
      return;
    }
    this.arm(idle - silent);
  }
}

/** One channel to a peer; built over a stream the pool opened. */
export class InferChannel {
  private readonly calls = new Map<string, ChannelCall>();
  private readonly forgotten = new Set<string>();
  private failure: Error | undefined;
  private readonly reader: { fail(error: Error): void };
  private readonly writer: FrameWriter;

  constructor(
    stream: Stream,
    readonly peerId: string,
    private readonly onEnd: (channel: InferChannel) => void,
  ) {
    this.reader = readFrames(stream, INBOUND_TYPES, {
      message: (message) => this.onMessage(message),
      end: (error) => this.onClosed(error),
    });
    // A failed write resets the stream, which fails every request on it.
    this.writer = new FrameWriter(stream, (error) => this.reader.fail(error));
  }

  /** False once the stream has broken; the pool then opens a new channel. */
  get isOpen(): boolean {
    return this.failure === undefined;
  }

  /** Requests whose ids are taken on the responder's side. */
  get inFlight(): number {
    return this.calls.size;
  }

  /**
   * Sends a request and returns its call. Throws RequestTooLargeError for a request no frame can
   * hold, PeerStreamLimitError when MAX_INFER_IN_FLIGHT requests are running here, PeerLostError
   * when the stream is broken, or the signal's reason.
   */
  async start(
    request: InferRequestMessage,
    signal: AbortSignal,
    deadlines: RemoteDeadlines,
  ): Promise<ChannelCall> {
    signal.throwIfAborted();
    if (this.failure !== undefined) throw this.lostError();
    if (this.calls.size >= MAX_INFER_IN_FLIGHT)
      throw new PeerStreamLimitError(this.peerId, MAX_INFER_IN_FLIGHT);
    if (this.calls.has(request.id)) throw new RangeError(`request id ${request.id} is already in flight`);
    let frame: Uint8Array;
    try {
      frame = jsonFrame(JSON.stringify(request));
    } catch (error) {
      if (error instanceof FrameTooLargeError) {
        throw new RequestTooLargeError(`request is too large to forward to a peer: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
    const call = new ChannelCall(this, request.id, signal, deadlines);
    this.calls.set(request.id, call);
    this.send(frame);
    try {
      await this.writer.drained(signal);
    } catch (error) {
      call.release();
      if (signal.aborted) throw signal.reason;
      throw this.failure !== undefined ? this.lostError() : error;
    }
    return call;
  }

  /** Queues a frame for this turn's write. */
  send(frame: Uint8Array): void {
    if (this.failure === undefined) this.writer.write(frame);
  }

  /** A call no longer holds its id (`remember`: late frames for it are to be dropped). */
  forget(call: ChannelCall, remember: boolean): void {
    if (this.calls.get(call.id) === call) this.calls.delete(call.id);
    if (!remember) return;
    this.forgotten.add(call.id);
    if (this.forgotten.size > FORGOTTEN_IDS) {
      const oldest = this.forgotten.values().next().value;
      if (oldest !== undefined) this.forgotten.delete(oldest);
    }
  }

  /** Resets the stream; every request on it fails. */
  abort(error: Error): void {
    this.reader.fail(error);
  }

  private onMessage(message: Message): void {
    const id = (message as { id: string }).id;
    const call = this.calls.get(id);
    if (call === undefined) {
      if (this.forgotten.has(id)) {
        if (message.type !== 'infer-chunk') this.forgotten.delete(id);
        return;
      }
      throw new UnexpectedMessageError(`${message.type} for unknown request id ${id.slice(0, 128)}`);
    }
    call.receive(message);
  }

  private onClosed(error: Error | undefined): void {
    this.failure = error ?? new Error('the channel closed');
    for (const call of [...this.calls.values()]) call.lost(this.lostError());
    this.calls.clear();
    this.onEnd(this);
  }

  private lostError(): PeerLostError {
    const reason = this.failure?.message ?? 'the channel closed';
    return new PeerLostError(`peer ${this.peerId} broke off the answer: ${reason}`, { cause: this.failure });
  }
}
