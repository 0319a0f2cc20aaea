/**
 * Framing: an unsigned LEB128 varint length, then that many bytes of one UTF-8 JSON object with a
 * `type` field. The decoder refuses an oversize length before buffering any of the payload.
 */
import { MAX_ANY_FRAME_BYTES, MAX_LENGTH_PREFIX_BYTES } from './constants.js';
import { FrameTooLargeError, MalformedFrameError, TruncatedFrameError } from './errors.js';
import type { Message, MessageType } from './messages.js';
import { validateMessage } from './validate.js';

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** Encodes a non-negative safe integer as an unsigned LEB128 varint. */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} as a varint`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/**
 * Reads a varint at `offset`. Returns undefined when more bytes are needed; throws
 * MalformedFrameError for a prefix longer than MAX_LENGTH_PREFIX_BYTES or not minimally encoded.
 */
export function decodeVarint(bytes: Uint8Array, offset = 0): { value: number; length: number } | undefined {
  let value = 0;
  for (let i = 0; i < MAX_LENGTH_PREFIX_BYTES; i++) {
    const byte = bytes[offset + i];
    if (byte === undefined) return undefined;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 0) throw new MalformedFrameError('length prefix is not minimally encoded');
      return { value, length: i + 1 };
    }
  }
  throw new MalformedFrameError(`length prefix longer than ${MAX_LENGTH_PREFIX_BYTES} bytes`);
}

/** Options of the encoder and decoders. */
export interface CodecOptions {
  /** Largest payload in bytes; defaults to MAX_ANY_FRAME_BYTES. Use MAX_FRAME_BYTES[protocol]. */
  maxFrameBytes?: number;
  /** Message types accepted; defaults to all. Use PROTOCOL_MESSAGE_TYPES[protocol]. */
  allowedTypes?: readonly MessageType[];
}

/** Encodes one message as a frame; throws FrameTooLargeError when the payload exceeds the limit. */
export function encodeFrame(message: Message, options: CodecOptions = {}): Uint8Array {
  const limit = options.maxFrameBytes ?? MAX_ANY_FRAME_BYTES;
  const payload = utf8Encoder.encode(JSON.stringify(message));
  if (payload.length > limit) throw new FrameTooLargeError(payload.length, limit);
  const prefix = encodeVarint(payload.length);
  const frame = new Uint8Array(prefix.length + payload.length);
  frame.set(prefix, 0);
  frame.set(payload, prefix.length);
  return frame;
}

/** Parses and validates one frame payload (without its prefix). */
export function decodePayload(payload: Uint8Array, options: CodecOptions = {}): Message {
  let text: string;
  try {
    text = utf8Decoder.decode(payload);
  } catch {
    throw new MalformedFrameError('payload is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedFrameError('payload is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedFrameError('payload is not a JSON object');
  }
  return validateMessage(value, options.allowedTypes);
}

/**
 * Incremental decoder for a byte stream. Feed chunks with `push`, which returns the messages they
 * complete; call `end` when the stream ends, which throws if a frame was cut short. After any error
 * the decoder is poisoned, because the stream can no longer be trusted to be in sync.
 */
export class FrameDecoder {
  private readonly limit: number;
  private readonly options: CodecOptions;
  /** Pending bytes, kept as chunks so a large frame arriving in pieces is copied only once. */
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** Total bytes (prefix and payload) of the frame being received, once its prefix is known. */
  private needed = 0;
  private failed: Error | undefined;

  constructor(options: CodecOptions = {}) {
    this.options = options;
    this.limit = options.maxFrameBytes ?? MAX_ANY_FRAME_BYTES;
  }

  /** Bytes of an unfinished frame held now. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds bytes and returns every message they complete. */
  push(chunk: Uint8Array): Message[] {
    if (this.failed !== undefined) throw this.failed;
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.needed) return [];
    try {
      return this.drain();
    } catch (err) {
      this.failed = err as Error;
      this.chunks = [];
      this.buffered = 0;
      throw err;
    }
  }

  /** Declares the end of the stream; throws TruncatedFrameError if a frame is unfinished. */
  end(): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.buffered > 0) {
      this.failed = new TruncatedFrameError(`stream ended inside a frame (${this.buffered} bytes buffered)`);
      throw this.failed;
    }
  }

  private drain(): Message[] {
    const data =
      this.chunks.length === 1 ? (this.chunks[0] as Uint8Array) : concat(this.chunks, this.buffered);
    const messages: Message[] = [];
    let offset = 0;
    this.needed = 0;
    for (;;) {
      const prefix = decodeVarint(data, offset);
      if (prefix === undefined) break;
      if (prefix.value > this.limit) throw new FrameTooLargeError(prefix.value, this.limit);
      if (prefix.value === 0) throw new MalformedFrameError('empty frame');
      const start = offset + prefix.length;
      const end = start + prefix.value;
      if (end > data.length) {
        this.needed = end - offset;
        break;
      }
      messages.push(decodePayload(data.subarray(start, end), this.options));
      offset = end;
    }
    this.chunks = offset === data.length ? [] : [data.slice(offset)];
    this.buffered = data.length - offset;
    return messages;
  }
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Decodes a buffer that holds exactly one frame; throws on truncation or trailing bytes. */
export function decodeFrame(bytes: Uint8Array, options: CodecOptions = {}): Message {
  const messages = decodeFrames(bytes, options);
  if (messages.length !== 1) throw new MalformedFrameError(`expected one frame, found ${messages.length}`);
  return messages[0] as Message;
}

/** Decodes a buffer that holds whole frames only; throws on truncation. */
export function decodeFrames(bytes: Uint8Array, options: CodecOptions = {}): Message[] {
  const decoder = new FrameDecoder(options);
  const messages = decoder.push(bytes);
  decoder.end();
  return messages;
}
