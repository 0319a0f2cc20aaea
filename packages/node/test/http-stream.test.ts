import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TurnWriter } from '../src/http/stream.js';

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

/** Counts the response's own writes (each is one HTTP chunk and one pass through its layers). */
function countWrites(res: ServerResponse): { count: number } {
  const counted = { count: 0 };
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  res.write = ((...args: unknown[]) => {
    counted.count += 1;
    return write(...args);
  }) as ServerResponse['write'];
  return counted;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('TurnWriter', () => {
  it('should send the pieces of one loop turn in one write once the turn ends', async () => {
    const seen: number[] = [];
    const body = await serve(async (res) => {
      const writes = countWrites(res);
      const out = new TurnWriter(res);
      for (let i = 0; i < 5; i += 1) {
        expect(await out.write(`{"n":${i}}\n`)).toBe(true);
        seen.push(writes.count);
      }
      await nextTurn();
      seen.push(writes.count);
      for (let i = 5; i < 7; i += 1) await out.write(`{"n":${i}}\n`);
      await nextTurn();
      seen.push(writes.count);
      out.end();
    });
    // Nothing is written during the turn; each turn's pieces are one write.
    expect(seen).toEqual([0, 0, 0, 0, 0, 1, 2]);
    expect(body).toBe([0, 1, 2, 3, 4, 5, 6].map((n) => `{"n":${n}}\n`).join(''));
  });

  it('should hold little in one turn, wait for drain, and deliver everything when a turn writes more than the buffer', async () => {
    const piece = `${'x'.repeat(64 * 1024 - 1)}\n`;
    let writesSeen = 0;
    let listenersLeft = -1;
    const body = await serve(async (res) => {
      const writes = countWrites(res);
      const closeListeners = res.listenerCount('close');
      const out = new TurnWriter(res);
      for (let i = 0; i < 64; i += 1) {
        // Each piece reaches the turn's bound: it goes out at once, and a full socket is waited for.
        expect(await out.write(piece)).toBe(true);
      }
      writesSeen = writes.count;
      // Every wait for drain took its listeners off again.
      listenersLeft = res.listenerCount('close') - closeListeners;
      out.end();
    });
    expect(writesSeen).toBe(64);
    expect(listenersLeft).toBe(0);
    expect(body.length).toBe(64 * piece.length);
  });

  it('should end the response with everything held before the end, in order', async () => {
    const body = await serve(async (res) => {
      const out = new TurnWriter(res);
      await out.write('a\n');
      await out.write('b\n');
      out.end('c\n');
    });
    expect(body).toBe('a\nb\nc\n');
  });

  it('should answer false once the client is gone', async () => {
    let after: boolean | undefined;
    server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.write('first\n');
      res.once('close', () => {
        void (async () => {
          after = await new TurnWriter(res).write('late\n');
        })();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const controller = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/`, { signal: controller.signal });
    await response.body!.getReader().read();
    controller.abort();
    await expect.poll(() => after).toBe(false);
  });
});
