/** The copier's side of MODELS_PROTOCOL: one `models-get` per stream, its reply and its bytes. */
import {
  encodeFrame,
  MAX_FRAME_BYTES,
  MODELS_PROTOCOL,
  type ModelsGetMessage,
  type ModelsReplyMessage,
  UnexpectedMessageError,
} from '@allerac/protocol';
import type { Stream } from '@libp2p/interface';
import { ModelsStreamReader } from './models-wire.js';

/** Opens a stream to a peer on a protocol (the mesh's openStream). */
export type OpenStream = (peerId: string, protocol: string, signal?: AbortSignal) => Promise<Stream>;

/** How long a holder may take to answer: it stats one file. */
export const MODELS_REPLY_TIMEOUT_MS = 10_000;

/** A reply and the raw bytes that follow it; `body` must be read to its end or `abort`ed. */
export interface ModelsResponse {
  reply: ModelsReplyMessage;
  body: AsyncIterable<Uint8Array>;
  abort(): void;
}

/** Sends `get` to `peerId` and reads the reply header. */
export async function requestFromPeer(
  open: OpenStream,
  peerId: string,
  get: ModelsGetMessage,
  signal?: AbortSignal,
): Promise<ModelsResponse> {
  const stream = await open(peerId, MODELS_PROTOCOL, signal);
  const abort = () => stream.abort(new Error('copy cancelled'));
  signal?.addEventListener('abort', abort, { once: true });
  try {
    const frame = encodeFrame(get, { maxFrameBytes: MAX_FRAME_BYTES[MODELS_PROTOCOL] });
    if (!stream.send(frame)) await stream.onDrain({ signal });
    await stream.close({ signal });
    const reader = new ModelsStreamReader(stream);
    const answer = await reader.frame(MODELS_REPLY_TIMEOUT_MS);
    if (answer.type !== 'models-reply')
      throw new UnexpectedMessageError(`expected models-reply, got ${answer.type}`);
    const reply = answer;
    const length = reply.length;
    async function* body(): AsyncGenerator<Uint8Array> {
      try {
        yield* reader.body(length);
      } finally {
        signal?.removeEventListener('abort', abort);
      }
    }
    return { reply, body: body(), abort };
  } catch (error) {
    signal?.removeEventListener('abort', abort);
    stream.abort(error as Error);
    throw error;
  }
}

/** Reads a whole (small) body, such as a manifest. */
export async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}
