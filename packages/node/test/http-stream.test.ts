import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { writeWithBackpressure } from '../src/http/stream.js';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

/** A loopback server whose one response `handler` writes; resolves with the body the client read. */
async function serve(handler: (res: ServerResponse) => Promise<void>): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    void handler(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return (await fetch(`http://127.0.0.1:${port}/`)).text();
}

describe('writeWithBackpressure', () => {
  it('should hold the pieces of one loop turn back and send them together once it ends', async () => {
    const seen: number[] = [];
    const body = await serve(async (res) => {
      for (let i = 0; i < 5; i += 1) {
        await writeWithBackpressure(res, `{"n":${i}}\n`);
        seen.push(res.socket!.writableCorked);
      }
      // The check phase has uncorked the socket: the pieces are on the wire.
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(res.socket!.writableCorked);
      res.end();
    });
    expect(seen).toEqual([1, 1, 1, 1, 1, 0]);
    expect(body).toBe([0, 1, 2, 3, 4].map((n) => `{"n":${n}}\n`).join(''));
  });

  it('should still wait for drain and deliver everything when one turn writes more than the buffer', async () => {
    const piece = `${'x'.repeat(64 * 1024 - 1)}\n`;
    const body = await serve(async (res) => {
      for (let i = 0; i < 64; i += 1) {
        // Each piece fills the corked socket's buffer: the wait for drain must still end.
        expect(await writeWithBackpressure(res, piece)).toBe(true);
      }
      res.end();
    });
    expect(body.length).toBe(64 * piece.length);
  });

  it('should end a corked response with everything written before the end', async () => {
    const body = await serve(async (res) => {
      await writeWithBackpressure(res, 'a\n');
      await writeWithBackpressure(res, 'b\n');
      res.end('c\n');
    });
    expect(body).toBe('a\nb\nc\n');
  });
});
