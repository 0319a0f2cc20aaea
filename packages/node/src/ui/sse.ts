import type { FastifyReply, FastifyRequest } from 'fastify';

/** An open server-sent-events stream. */
export interface SseStream {
  /** Sends one event; a no-op once closed. */
  send(event: string, data: unknown): void;
  /** Ends the stream; idempotent. */
  close(): void;
  readonly closed: boolean;
  /** Aborted when the client goes away or the stream is closed. */
  readonly signal: AbortSignal;
}

/** Keep-alive comments stop proxies and browsers from dropping a quiet stream. */
const KEEPALIVE_MS = 15_000;

/** Takes over a reply and opens an SSE stream on it (status 200, text/event-stream). */
export function openSse(request: FastifyRequest, reply: FastifyReply, registry?: Set<SseStream>): SseStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  raw.write(': allerac\n\n');
  const controller = new AbortController();
  const keepalive = setInterval(() => raw.write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  const stream: SseStream = {
    send(event, data) {
      if (controller.signal.aborted) return;
      raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close() {
      if (controller.signal.aborted) return;
      controller.abort();
      clearInterval(keepalive);
      registry?.delete(stream);
      raw.end();
    },
    get closed() {
      return controller.signal.aborted;
    },
    signal: controller.signal,
  };
  registry?.add(stream);
  request.raw.once('close', () => stream.close());
  raw.once('close', () => stream.close());
  return stream;
}
