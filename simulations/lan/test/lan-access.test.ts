/**
 * The auth bypass of the review, replayed for real: a node in its own network namespace listening
 * on 0.0.0.0, and a LAN host (the root namespace, on the bridge) that holds no token and tries
 * every spelling of a path, absolute-form targets included, over raw TCP.
 */
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lan, lanUnavailableReason, startLan } from '../src/index.js';

const unavailable = lanUnavailableReason();

/** Sends one raw HTTP/1.1 request and resolves with the status code. */
function raw(host: string, port: number, request: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let data = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${request.split('\r\n')[0]}`)));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (match) {
        resolve(Number(match[1]));
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.connect(port, host, () => socket.write(request));
  });
}

describe.skipIf(unavailable !== undefined)(
  `auth from another host of the LAN${unavailable ? ` — SKIPPED: ${unavailable}` : ''}`,
  () => {
    let lan: Lan;
    let host: string;
    let port: number;

    beforeAll(async () => {
      lan = await startLan([{ name: 'vault', profile: 'fast', models: ['llama3.2:3b'] }], {
        logLevel: 'warn',
      });
      const url = new URL(lan.hosts[0]!.url);
      host = url.hostname;
      port = Number(url.port);
    }, 120_000);
    afterAll(async () => lan?.stop());

    const get = (target: string, extra = '') =>
      raw(host, port, `GET ${target} HTTP/1.1\r\nHost: ${host}:${port}\r\n${extra}Connection: close\r\n\r\n`);
    const post = (target: string, body: string) =>
      raw(
        host,
        port,
        `POST ${target} HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );

    it('should answer /health to a LAN host without a token, and nothing else', async () => {
      expect(await get('/health')).toBe(200);
      for (const target of [
        '/api/tags',
        '/v1/models',
        '/metrics',
        '/allerac/v1/memories',
        '/allerac/v1/settings',
      ]) {
        expect(await get(target), target).toBe(401);
      }
    });

    it('should refuse every encoded or absolute-form spelling of a protected path', async () => {
      const refused = [400, 401, 404];
      for (const target of [
        '/%61llerac/v1/memories',
        '/allerac/%761/memories',
        '/%61llerac/v1/conversations',
        '/%61pi/tags',
        '/%761/models',
        '/%2561pi/tags',
        `http://${host}:${port}/allerac/v1/memories`,
        'http://x/allerac/v1/memories',
        `http://${host}:${port}/%61pi/tags`,
        '/allerac/v1/../v1/memories',
      ]) {
        expect(refused, target).toContain(await get(target));
      }
      for (const target of ['/%61pi/chat', '/%61llerac/v1/memories', `http://${host}:${port}/api/chat`]) {
        const status = await post(target, JSON.stringify({ model: 'llama3.2:3b', text: 'x', messages: [] }));
        expect(refused, `POST ${target}`).toContain(status);
      }
    });

    it('should serve the same requests with a token, so the refusals are about credentials', async () => {
      const token = lan.hosts[0]!.token;
      expect(await get('/%61llerac/v1/memories', `Authorization: Bearer ${token}\r\n`)).toBe(200);
      expect(await get('/%61pi/tags', `Authorization: Bearer ${token}\r\n`)).toBe(200);
    });
  },
);
