/**
 * The holder's side of MODELS_PROTOCOL: answers one `models-get` per stream from the Ollama
 * models directory, a manifest or a blob (whole, a range, or only its size). Paired peers alone
 * reach it (the mesh key), and the mesh caps each peer's concurrent streams.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  encodeFrame,
  FIRST_FRAME_TIMEOUT_MS,
  MAX_FRAME_BYTES,
  MAX_MODELS_MANIFEST_BYTES,
  MODELS_PROTOCOL,
  type ModelsGetMessage,
  type ModelsReplyMessage,
} from '@allerac/protocol';
import type { Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { BulkLaneServer } from './bulk-lane.js';
import type { ModelsDirectory } from './models-dir.js';
import { ModelsStreamReader } from './models-wire.js';

/** Ollama's default registry: the host of every name written without one. */
export const DEFAULT_REGISTRY_HOST = 'registry.ollama.ai';

/** Read size of blob bytes: large enough that yamux frames stay full. */
const READ_CHUNK_BYTES = 256 * 1024;

type Answer = { reply: ModelsReplyMessage; file?: { path: string; start: number; end: number } };

function failed(status: number, error: string): Answer {
  return { reply: { type: 'models-reply', status, size: 0, length: 0, error } };
}

/** What a request asks for, as a file and a range, or the failure to send. */
export async function answerModelsGet(dir: ModelsDirectory, get: ModelsGetMessage): Promise<Answer> {
  const status = await dir.status();
  if (!status.readable) return failed(503, `this node cannot share models: ${status.reason}`);
  let path: string | undefined;
  if (get.kind === 'manifest') {
    const { namespace, model, tag } = get;
    if (namespace === undefined || model === undefined || tag === undefined) {
      return failed(400, 'a manifest request names namespace, model and tag');
    }
    path = dir.manifestPath({ host: get.host ?? DEFAULT_REGISTRY_HOST, namespace, model, tag });
  } else {
    if (get.digest === undefined) return failed(400, 'a blob request names its digest');
    path = dir.blobPath(get.digest);
  }
  if (path === undefined) return failed(400, 'invalid name');
  const real = await dir.realFile(path);
  const info = real !== undefined ? await stat(real).catch(() => undefined) : undefined;
  if (real === undefined || info === undefined || !info.isFile()) {
    return failed(404, get.kind === 'manifest' ? 'manifest unknown' : 'blob unknown');
  }
  const size = info.size;
  if (get.kind === 'manifest' && size > MAX_MODELS_MANIFEST_BYTES) return failed(503, 'manifest too large');
  const start = get.offset ?? 0;
  const ranged = get.offset !== undefined || get.length !== undefined;
  const length = Math.min(get.length ?? size - start, size - start);
  if (start > size || (start === size && size > 0 && ranged)) {
    return { reply: { type: 'models-reply', status: 416, size, length: 0, error: 'range outside the blob' } };
  }
  const sent = get.head === true ? 0 : length;
  const reply: ModelsReplyMessage = { type: 'models-reply', status: ranged ? 206 : 200, size, length: sent };
  return sent > 0 ? { reply, file: { path: real, start, end: start + sent - 1 } } : { reply };
}

async function send(stream: Stream, bytes: Uint8Array): Promise<void> {
  if (!stream.send(bytes)) await stream.onDrain();
}

/**
 * A blob range asked with `lane` goes over the bulk lane when it can take a ticket: the reply
 * then carries the ticket and no bytes. Otherwise the answer stands as it is.
 */
async function overLane(
  answer: Answer,
  get: ModelsGetMessage,
  lane: BulkLaneServer | undefined,
): Promise<Answer> {
  if (lane === undefined || get.lane !== true || get.kind !== 'blob' || answer.file === undefined)
    return answer;
  const ticket = await lane.issue(answer.file);
  return ticket === undefined ? answer : { reply: { ...answer.reply, length: 0, lane: ticket } };
}

/**
 * Serves one stream: a request in, a reply and its bytes out, then the stream closes. With a
 * `lane`, blob ranges asked for over it go there instead.
 */
export async function serveModelsStream(
  dir: ModelsDirectory,
  stream: Stream,
  peerId: string,
  logger: Logger,
  lane?: BulkLaneServer,
): Promise<void> {
  const reader = new ModelsStreamReader(stream);
  try {
    const get = await reader.frame(FIRST_FRAME_TIMEOUT_MS);
    if (get.type !== 'models-get') throw new Error(`expected models-get, got ${get.type}`);
    const answer = await overLane(await answerModelsGet(dir, get), get, lane);
    await send(stream, encodeFrame(answer.reply, { maxFrameBytes: MAX_FRAME_BYTES[MODELS_PROTOCOL] }));
    if (answer.file !== undefined) {
      const { path, start, end } = answer.file;
      for await (const chunk of createReadStream(path, { start, end, highWaterMark: READ_CHUNK_BYTES })) {
        await send(stream, chunk as Buffer);
      }
    }
    logger.debug(
      {
        peer: peerId,
        kind: get.kind,
        status: answer.reply.status,
        bytes: answer.reply.length,
        lane: answer.reply.lane !== undefined,
      },
      'models request served',
    );
    await stream.close();
  } catch (error) {
    logger.debug({ peer: peerId, err: error }, 'models stream dropped');
    stream.abort(error as Error);
  }
}
