/**
 * Message framing over a libp2p 3 stream (a MessageStream, not a duplex iterable): writes honour
 * backpressure, reads enforce the frame limit and the first-frame and frame-completion timeouts.
 */
import type { Stream } from '@libp2p/interface';
import { type CodecOptions, encodeFrame, FrameDecoder } from './codec.js';
import {
  FIRST_FRAME_TIMEOUT_MS,
  FRAME_COMPLETION_TIMEOUT_MS,
  MAX_FRAME_BYTES,
  type ProtocolId,
} from './constants.js';
import { FrameTimeoutError } from './errors.js';
import type { Message } from './messages.js';
import { PROTOCOL_MESSAGE_TYPES } from './validate.js';

/** Options of a FramedStream. */
export interface FramedStreamOptions extends CodecOptions {
  /** Protocol of the stream: sets the default frame limit and accepted message types. */
  protocol?: ProtocolId;
  /** The first frame must be complete within this (ms); 0 disables. */
  firstFrameTimeoutMs?: number;
  /** A started frame must be complete within this (ms); 0 disables. */
  frameCompletionTimeoutMs?: number;
  /** Between frames the peer may be silent at most this long (ms); 0 (default) means forever. */
  idleTimeoutMs?: number;
}

type Chunk = Uint8Array | { subarray(): Uint8Array };

/** A libp2p stream that carries protocol messages. */
export class FramedStream {
  /** The underlying libp2p stream. */
  readonly stream: Stream;
  private readonly decoder: FrameDecoder;
  private readonly options: FramedStreamOptions;
  private readonly iterator: AsyncIterator<Chunk>;
  private readonly queue: Message[] = [];
  private pending: Promise<IteratorResult<Chunk>> | undefined;
  private received = 0;
  private ended = false;

  constructor(stream: Stream, options: FramedStreamOptions = {}) {
    this.stream = stream;
    const protocol = options.protocol;
    this.options = options;
    this.decoder = new FrameDecoder({
      maxFrameBytes:
        options.maxFrameBytes ?? (protocol !== undefined ? MAX_FRAME_BYTES[protocol] : undefined),
      allowedTypes:
        options.allowedTypes ?? (protocol !== undefined ? PROTOCOL_MESSAGE_TYPES[protocol] : undefined),
    });
    this.iterator = (stream as AsyncIterable<Chunk>)[Symbol.asyncIterator]();
  }

  /** Sends one message, waiting for the stream to drain when its buffer is full. */
  async write(message: Message, options: { signal?: AbortSignal } = {}): Promise<void> {
    const frame = encodeFrame(message, { maxFrameBytes: this.maxBytes() });
    if (!this.stream.send(frame)) await this.stream.onDrain(options);
  }

  /**
   * Reads the next message; undefined when the peer closed its side cleanly between frames.
   * Throws FrameTooLargeError, MalformedFrameError, ValidationError, TruncatedFrameError or
   * FrameTimeoutError; after an error the caller should abort the stream.
   */
  async read(options: { signal?: AbortSignal } = {}): Promise<Message | undefined> {
    for (;;) {
      const next = this.queue.shift();
      if (next !== undefined) {
        this.received++;
        return next;
      }
      if (this.ended) return undefined;
      options.signal?.throwIfAborted();
      const timeout = this.currentTimeout();
      this.pending ??= this.iterator.next();
      const result = await raceTimeout(this.pending, timeout, options.signal);
      this.pending = undefined;
      if (result.done === true) {
        this.ended = true;
        this.decoder.end();
        continue;
      }
      const value = result.value;
      const bytes = value instanceof Uint8Array ? value : value.subarray();
      this.queue.push(...this.decoder.push(bytes));
    }
  }

  /** Iterates messages until the peer closes its side. */
  async *messages(options: { signal?: AbortSignal } = {}): AsyncGenerator<Message> {
    for (;;) {
      const message = await this.read(options);
      if (message === undefined) return;
      yield message;
    }
  }

  /** Closes our side gracefully. */
  async close(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.stream.close(options);
  }

  /** Resets the stream with a reason. */
  abort(err: Error): void {
    this.stream.abort(err);
  }

  private maxBytes(): number | undefined {
    const protocol = this.options.protocol;
    return this.options.maxFrameBytes ?? (protocol !== undefined ? MAX_FRAME_BYTES[protocol] : undefined);
  }

  private currentTimeout(): { ms: number; what: string } | undefined {
    const first = this.options.firstFrameTimeoutMs ?? FIRST_FRAME_TIMEOUT_MS;
    const completion = this.options.frameCompletionTimeoutMs ?? FRAME_COMPLETION_TIMEOUT_MS;
    const idle = this.options.idleTimeoutMs ?? 0;
    if (this.decoder.bufferedBytes > 0 && completion > 0) return { ms: completion, what: 'frame completion' };
    if (this.received === 0 && first > 0) return { ms: first, what: 'first frame' };
    if (idle > 0) return { ms: idle, what: 'idle' };
    return undefined;
  }
}

async function raceTimeout<T>(
  promise: Promise<T>,
  timeout: { ms: number; what: string } | undefined,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (timeout === undefined && signal === undefined) return promise;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        if (timeout !== undefined) {
          timer = setTimeout(
            () => reject(new FrameTimeoutError(`${timeout.what} timeout after ${timeout.ms} ms`)),
            timeout.ms,
          );
        }
        if (signal !== undefined) {
          onAbort = () => reject(signal.reason ?? new Error('aborted'));
          signal.addEventListener('abort', onAbort, { once: true });
        }
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}
