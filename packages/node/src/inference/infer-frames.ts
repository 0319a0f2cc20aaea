/**
 * Framing of INFER_CHANNEL_PROTOCOL on a libp2p stream, shared by both ends of a channel: frames
 * are encoded once, straight into the buffer that is sent, and read from the stream's `message`
 * events, with no async iterator or timer per frame.
 */
import {
  FRAME_COMPLETION_TIMEOUT_MS,
  FrameDecoder,
  FrameTimeoutError,
  FrameTooLargeError,
  INFER_CHANNEL_PROTOCOL,
  MAX_FRAME_BYTES,
  type Message,
  type MessageType,
} from '@allerac/protocol';
import { ollamaLine } from '../backend/ndjson-request.js';

/** The other end closed or reset an inference channel. */
export class ChannelClosedError extends Error {
  override name = 'ChannelClosedError';
}

/** Largest frame of the channel protocol. */
export const MAX_CHANNEL_FRAME_BYTES = MAX_FRAME_BYTES[INFER_CHANNEL_PROTOCOL];

/**
 * One frame from a payload that is already JSON text: a varint length, then its UTF-8 bytes,
 * written into one buffer. Throws FrameTooLargeError past `maxBytes`.
 */
export function jsonFrame(json: string, maxBytes = MAX_CHANNEL_FRAME_BYTES): Uint8Array {
  const length = Buffer.byteLength(json, 'utf8');
  if (length > maxBytes) throw new FrameTooLargeError(length, maxBytes);
  let prefix = 1;
  for (let v = length; v >= 0x80; v = Math.floor(v / 0x80)) prefix++;
  const frame = Buffer.allocUnsafe(prefix + length);
  let at = 0;
  let v = length;
  while (v >= 0x80) {
    frame[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  frame[at] = v;
  frame.write(json, prefix, 'utf8');
  return frame;
}

/**
 * The frame of one `infer-chunk`, made from the request's id (as JSON, computed once per request)
 * and Ollama's object: a chunk as Ollama sent it goes in as Ollama's own line (ollamaLine), any
 * other is stringified once, and the envelope is never stringified at all. The bytes equal
 * `encodeFrame({ type, id, chunk })` up to the chunk's JSON spelling.
 */
export function chunkFrame(idJson: string, chunk: object): Uint8Array {
  const json = ollamaLine(chunk) ?? JSON.stringify(chunk);
  return jsonFrame(`{"type":"infer-chunk","id":${idJson},"chunk":${json}}`);
}

/** The part of a libp2p Stream that the writer needs. */
export interface WritableStreamLike {
  send(data: Uint8Array): boolean;
  readonly writableNeedsDrain: boolean;
  onDrain(options?: { signal?: AbortSignal }): Promise<void>;
}

/**
 * Writes frames to a stream, coalescing those written in one turn of the event loop into one
 * `send`: each send costs a yamux frame, a noise and a pnet encryption and a socket write, which
 * together cost more than the frame itself. A turn adds no delay a reader can see.
 */
export class FrameWriter {
  private pending: Uint8Array[] = [];
  private scheduled = false;
  private failed = false;

  constructor(
    private readonly stream: WritableStreamLike,
    /** A failed send: the stream is to be reset. */
    private readonly onError: (error: Error) => void,
  ) {}

  /** Queues a frame for this turn's send. */
  write(frame: Uint8Array): void {
    if (this.failed) return;
    this.pending.push(frame);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Whether the stream's send buffer is full: `drained()` then waits. */
  get needsDrain(): boolean {
    return this.stream.writableNeedsDrain;
  }

  /** Resolves once the stream's send buffer has room again (at once when it has). */
  async drained(signal: AbortSignal): Promise<void> {
    if (this.stream.writableNeedsDrain) await this.stream.onDrain({ signal });
  }

  /** Sends what is queued now. */
  readonly flush = (): void => {
    this.scheduled = false;
    const frames = this.pending;
    if (frames.length === 0 || this.failed) return;
    this.pending = [];
    try {
      this.stream.send(frames.length === 1 ? (frames[0] as Uint8Array) : Buffer.concat(frames));
    } catch (error) {
      this.failed = true;
      this.onError(error as Error);
    }
  };
}

/** What a FrameReader reports. */
export interface FrameReaderEvents {
  /** One decoded, validated message. Throwing from it ends the stream as a violation. */
  message(message: Message): void;
  /** The stream is over: `error` says why when it did not end cleanly. Called once. */
  end(error: Error | undefined): void;
}

/** Chunk of a libp2p stream's `message` event. */
type StreamData = Uint8Array | { subarray(): Uint8Array };

/** The part of a libp2p Stream that the reader needs. */
export interface ReadableStreamLike {
  addEventListener(type: 'message', listener: (event: { data: StreamData }) => void): void;
  addEventListener(type: 'remoteCloseWrite' | 'close', listener: (event: Event) => void): void;
  abort(error: Error): void;
}

/**
 * Reads frames of the allowed types off a stream and hands each to `events.message`. A bad frame
 * (oversize, malformed, a type the direction does not carry, or one the handler rejects) aborts
 * the stream; so does a frame begun and not finished within FRAME_COMPLETION_TIMEOUT_MS.
 */
export function readFrames(
  stream: ReadableStreamLike,
  allowedTypes: readonly MessageType[],
  events: FrameReaderEvents,
): { fail(error: Error): void } {
  const decoder = new FrameDecoder({ maxFrameBytes: MAX_CHANNEL_FRAME_BYTES, allowedTypes });
  let ended = false;
  let completion: NodeJS.Timeout | undefined;
  const finish = (error: Error | undefined) => {
    if (ended) return;
    ended = true;
    clearTimeout(completion);
    events.end(error);
  };
  const fail = (error: Error) => {
    if (ended) return;
    finish(error);
    stream.abort(error);
  };
  stream.addEventListener('message', (event) => {
    if (ended) return;
    const data = event.data;
    try {
      const messages = decoder.push(data instanceof Uint8Array ? data : data.subarray());
      for (const message of messages) events.message(message);
    } catch (error) {
      fail(error as Error);
      return;
    }
    if (decoder.bufferedBytes === 0) {
      clearTimeout(completion);
      completion = undefined;
    } else if (completion === undefined) {
      completion = setTimeout(
        () => fail(new FrameTimeoutError(`frame completion timeout after ${FRAME_COMPLETION_TIMEOUT_MS} ms`)),
        FRAME_COMPLETION_TIMEOUT_MS,
      );
    }
  });
  stream.addEventListener('remoteCloseWrite', () =>
    fail(
      decoder.bufferedBytes > 0
        ? new ChannelClosedError('the peer closed the channel inside a frame')
        : new ChannelClosedError('the peer closed the channel'),
    ),
  );
  stream.addEventListener('close', (event) => {
    const error = (event as Event & { error?: Error }).error;
    finish(error ?? new ChannelClosedError('the channel closed'));
  });
  return { fail };
}
