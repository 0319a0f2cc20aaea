/**
 * The framing of MODELS_PROTOCOL on a libp2p stream: one length-prefixed JSON frame, then raw
 * bytes. FramedStream buffers past a frame, so this reader keeps what follows the frame for the
 * caller instead.
 */
import {
  decodePayload,
  decodeVarint,
  FrameTimeoutError,
  MAX_FRAME_BYTES,
  MalformedFrameError,
  MODELS_PROTOCOL,
  type ModelsProtocolMessage,
  PROTOCOL_MESSAGE_TYPES,
  TruncatedFrameError,
} from '@allerac/protocol';
import type { Stream } from '@libp2p/interface';

type Chunk = Uint8Array | { subarray(): Uint8Array };

function bytesOf(chunk: Chunk): Uint8Array {
  return chunk instanceof Uint8Array ? chunk : chunk.subarray();
}

/** The buffers of a chunk as they are: a Uint8ArrayList's `subarray()` would copy them into one. */
function buffersOf(chunk: Chunk): Iterable<Uint8Array> {
  if (chunk instanceof Uint8Array) return [chunk];
  return Symbol.iterator in chunk ? (chunk as Iterable<Uint8Array>) : [chunk.subarray()];
}

/** A stream read as one frame, then its raw rest. */
export class ModelsStreamReader {
  private readonly iterator: AsyncIterator<Chunk>;
  private rest: Uint8Array = new Uint8Array(0) as Uint8Array;

  constructor(readonly stream: Stream) {
    this.iterator = (stream as AsyncIterable<Chunk>)[Symbol.asyncIterator]();
  }

  /** The first frame, which must be complete within `timeoutMs`. */
  async frame(timeoutMs: number): Promise<ModelsProtocolMessage> {
    const limit = MAX_FRAME_BYTES[MODELS_PROTOCOL];
    let buffered: Uint8Array = new Uint8Array(0);
    const timer = new Promise<never>((_, reject) => {
      const t = setTimeout(
        () => reject(new FrameTimeoutError(`frame timeout after ${timeoutMs} ms`)),
        timeoutMs,
      );
      t.unref();
    });
    for (;;) {
      const prefix = decodeVarint(buffered);
      if (prefix !== undefined) {
        if (prefix.value > limit)
          throw new MalformedFrameError(`frame of ${prefix.value} bytes exceeds ${limit}`);
        const end = prefix.length + prefix.value;
        if (buffered.length >= end) {
          this.rest = buffered.subarray(end);
          const allowedTypes = PROTOCOL_MESSAGE_TYPES[MODELS_PROTOCOL];
          return decodePayload(buffered.subarray(prefix.length, end), {
            allowedTypes,
          }) as ModelsProtocolMessage;
        }
      }
      const next = await Promise.race([this.iterator.next(), timer]);
      if (next.done === true) throw new TruncatedFrameError('stream ended before its frame');
      buffered = concat(buffered, bytesOf(next.value));
      if (buffered.length > limit + 4) throw new MalformedFrameError(`frame exceeds ${limit} bytes`);
    }
  }

  /** Exactly `length` raw bytes after the frame; throws TruncatedFrameError when fewer arrive. */
  async *body(length: number): AsyncGenerator<Uint8Array> {
    let left = length;
    if (this.rest.length > 0 && left > 0) {
      const first = this.rest.subarray(0, left);
      left -= first.length;
      yield first;
    }
    while (left > 0) {
      const next = await this.iterator.next();
      if (next.done === true) throw new TruncatedFrameError(`stream ended ${left} bytes short`);
      for (const bytes of buffersOf(next.value)) {
        if (left === 0) break;
        const piece = bytes.length > left ? bytes.subarray(0, left) : bytes;
        left -= piece.length;
        yield piece;
      }
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
