import { once } from 'node:events';
import { createServer, globalAgent, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { OllamaObject } from '../src/backend/backend.js';
import { LineSplitter, NdjsonResponseError, postNdjson } from '../src/backend/ndjson-request.js';
import { ollamaStreamFormat } from '../src/http/generation.js';
import { chunkFrame } from '../src/inference/infer-frames.js';

function split(...parts: Array<string | Uint8Array>): string[] {
  const splitter = new LineSplitter();
  const lines = parts.flatMap((part) => splitter.push(typeof part === 'string' ? Buffer.from(part) : part));
  return [...lines, ...splitter.end()];
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

/** A stream's objects, out of the batches it reads them in. */
async function objects(source: AsyncIterable<readonly OllamaObject[]>): Promise<OllamaObject[]> {
  return (await collect(source)).flat();
}

describe('LineSplitter', () => {
  it('should cut lines on bytes, joining a line and a character split across reads', () => {
    const euro = Buffer.from('{"c":"€"}\n');
    // The euro sign's three bytes arrive in two reads, and one read holds two lines.
    const lines = split(euro.subarray(0, 7), euro.subarray(7), '{"a":1}\n{"b":', '2}\n\n', '{"d":3}');
    expect(lines).toEqual(['{"c":"€"}', '{"a":1}', '{"b":2}', '{"d":3}']);
  });
});

describe('postNdjson', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  async function serve(handler: (res: ServerResponse, body: string) => void): Promise<string> {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (part: Buffer) => {
        body += part.toString();
      });
      req.on('end', () => handler(res, body));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/chat`;
  }

  it('should send the body and yield each object up to the final one, skipping lines that are not JSON', async () => {
    let received = '';
    const url = await serve((res, body) => {
      received = body;
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.end('{"n":1,"done":false}\nnot json\n{"n":2,"done":true}\n{"n":3,"done":false}\n');
    });
    const chunks = await objects(await postNdjson(url, '{"model":"m"}', new AbortController().signal));
    expect(received).toBe('{"model":"m"}');
    expect(chunks.map((chunk: OllamaObject) => chunk.n)).toEqual([1, 2]);
  });

  it('should hand on the objects of one read together, and those of a later read apart', async () => {
    let readFirst: () => void = () => {};
    const firstRead = new Promise<void>((resolve) => {
      readFirst = resolve;
    });
    const url = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.write('{"n":1,"done":false}\n{"n":2,"done":false}\n{"n":3,"done":false}\n');
      void firstRead.then(() => res.end('{"n":4,"done":true}\n'));
    });
    const batches: number[][] = [];
    for await (const batch of await postNdjson(url, '{}', new AbortController().signal)) {
      batches.push(batch.map((chunk) => chunk.n as number));
      readFirst();
    }
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('should send a chat once more on a new connection when the server closed the kept-alive one as it went out', async () => {
    const connections = new Set<unknown>();
    let requests = 0;
    const url = await serve((res) => {
      requests += 1;
      connections.add(res.req.socket);
      // The second request arrives on the first one's kept-alive connection, which the server
      // drops without an answer, as one closing idle connections does when the request crosses it.
      if (requests === 2) {
        res.req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.end('{"n":1,"done":true}\n');
    });
    const chat = async () =>
      (await objects(await postNdjson(url, '{}', new AbortController().signal))).map((o) => o.n);
    expect(await chat()).toEqual([1]);
    // The first connection is back in the pool, so the next chat goes out on it.
    const port = `:${new URL(url).port}:`;
    const free = () =>
      Object.entries(globalAgent.freeSockets)
        .filter(([name]) => name.includes(port))
        .flatMap(([, sockets]) => sockets ?? []).length;
    await expect.poll(free).toBe(1);
    // The retry is the second connection's first request: the chat still gets its answer.
    expect(await chat()).toEqual([1]);
    expect(requests).toBe(3);
    expect(connections.size).toBe(2);
  });

  it('should reuse one connection for chats that end, and cut the connection of one left early', async () => {
    const sockets = new Set<unknown>();
    const url = await serve((res) => {
      sockets.add(res.req.socket);
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.write('{"n":1,"done":false}\n');
      // The final object and the body's end, as Ollama ends a stream.
      setImmediate(() => res.end('{"n":2,"done":true}\n'));
    });
    for (let i = 0; i < 6; i++) await objects(await postNdjson(url, '{}', new AbortController().signal));
    // A request sent in the same turn as the last one ended may find its socket not yet free and
    // open a second; after that the two take turns (it was one connection per request).
    expect(sockets.size).toBeLessThanOrEqual(2);
    // A consumer that stops after the first object: the connection is cut, so Ollama stops.
    const [socket] = [...sockets] as NodeJS.EventEmitter[];
    const closed = once(socket!, 'close');
    for await (const _ of await postNdjson(url, '{}', new AbortController().signal)) break;
    await closed;
  });

  it("should reject an HTTP error with Ollama's message and status", async () => {
    const url = await serve((res) => {
      res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end('{"error":"model \\"x\\" not found"}');
    });
    const failure = await postNdjson(url, '{}', new AbortController().signal).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(NdjsonResponseError);
    expect(failure).toMatchObject({ error: 'model "x" not found', status_code: 404 });
  });

  it('should throw the text of an error line, and throw when the stream ends before its final object', async () => {
    const url = await serve((res) => {
      res.writeHead(200);
      res.end('{"n":1,"done":false}\n{"error":"out of memory"}\n');
    });
    await expect(objects(await postNdjson(url, '{}', new AbortController().signal))).rejects.toThrow(
      /^out of memory$/,
    );
    const cut = await serve((res) => {
      res.writeHead(200);
      res.end('{"n":1,"done":false}\n');
    });
    await expect(objects(await postNdjson(cut, '{}', new AbortController().signal))).rejects.toThrow(
      /did not receive done/i,
    );
  });

  it("should reject a refused connection with the socket's code as its cause, and an abort with the signal's reason", async () => {
    const url = await serve(() => {});
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const refused = await postNdjson(url, '{}', new AbortController().signal).catch(
      (error: unknown) => error,
    );
    expect((refused as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');

    // Ollama sends no header until a model has loaded: the abort must end that wait.
    const held = await serve(() => {});
    const controller = new AbortController();
    const reason = new Error('caller left');
    const pending = postNdjson(held, '{}', controller.signal).catch((error: unknown) => error);
    controller.abort(reason);
    expect(await pending).toBe(reason);
  });

  it("should hand an Ollama API client Ollama's own line for an unchanged chunk, and encode a changed one", async () => {
    // Go escapes <, > and &; a re-encoding would not, so the bytes tell which path a chunk took.
    const line = '{"message":{"content":"\\u003cb\\u003e"},"done":false}';
    const url = await serve((res) => {
      res.writeHead(200);
      res.end(`${line}\n{"done":true,"eval_count":1}\n`);
    });
    const [chunk, final] = await objects(await postNdjson(url, '{}', new AbortController().signal));
    expect(ollamaStreamFormat.chunk(chunk!, undefined)).toBe(`${line}\n`);
    const copy = { ...chunk!, model: 'other' };
    expect(ollamaStreamFormat.chunk(copy, undefined)).toBe(`${JSON.stringify(copy)}\n`);
    // A peer is sent that line too, inside its frame's envelope.
    const frame = Buffer.from(chunkFrame('"r1"', chunk!));
    expect(frame.subarray(1).toString('utf8')).toBe(`{"type":"infer-chunk","id":"r1","chunk":${line}}`);
    expect(Buffer.from(chunkFrame('"r1"', copy)).subarray(1).toString('utf8')).toContain(
      JSON.stringify(copy),
    );
    const servedBy = { node: 'n1', failovers: 0 };
    expect(JSON.parse(ollamaStreamFormat.chunk(final!, servedBy))).toEqual({
      done: true,
      eval_count: 1,
      allerac: servedBy,
    });
  });
});
