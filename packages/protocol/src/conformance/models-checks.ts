/**
 * Conformance checks of a holder of MODELS_PROTOCOL (protocol.md §4, "Models protocol"): one
 * `models-get` per stream, answered by one `models-reply` and exactly `length` raw bytes; ranges;
 * a size-only `head`; 404 and 416; a range over the bulk lane (a one-time ticket, then exactly
 * its bytes over TLS 1.3 PSK), or on the stream from a holder without one; and no reply at all to
 * a name that could leave the models directory. The subject must hold `model` in its Ollama models directory and accept a paired peer
 * without a card.
 *
 * @example
 * ```ts
 * runModelsConformanceTests(async () => {
 *   const node = await startMyNode();
 *   return {
 *     subject: { multiaddrs: node.addresses(), meshKey: node.meshKey, model: { namespace: 'library', model: 'llama3.2', tag: '3b' } },
 *     teardown: () => node.stop(),
 *   };
 * });
 * ```
 */
import { createHash } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import type { Stream } from '@libp2p/interface';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePayload, decodeVarint } from '../codec.js';
import { MODELS_LANE_CIPHER, MODELS_PROTOCOL } from '../constants.js';
import type { ModelsGetMessage, ModelsLaneTicket, ModelsReplyMessage } from '../messages.js';
import type { ConformanceSubject } from './index.js';
import { createProber, type Prober } from './prober.js';

/** How to reach a models holder, and a model it holds. */
export interface ModelsConformanceSubject extends ConformanceSubject {
  /** A model in its Ollama models directory; `host` defaults to registry.ollama.ai. */
  model: { host?: string; namespace: string; model: string; tag: string };
}

/** What the setup function returns. */
export interface ModelsConformanceSetup {
  subject: ModelsConformanceSubject;
  teardown(): Promise<void>;
}

/** What came back on one stream: the reply (none when the subject reset it) and the raw rest. */
interface Exchange {
  reply?: ModelsReplyMessage;
  rest: Buffer;
}

/** Registers the models checks against the subject from `setup`. */
/** Reads a bulk lane to its end: TLS 1.3, the ticket's PSK, no certificates (protocol.md, "Bulk lane"). */
function readLane(host: string, ticket: ModelsLaneTicket, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = tlsConnect({
      host,
      port: ticket.port,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: MODELS_LANE_CIPHER,
      pskCallback: () => ({ psk: Buffer.from(ticket.key, 'base64'), identity: ticket.identity }),
      checkServerIdentity: () => undefined,
    });
    const timer = setTimeout(() => socket.destroy(new Error('the lane did not end in time')), timeoutMs);
    let secure = false;
    socket.once('secureConnect', () => {
      secure = true;
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (secure) resolve(Buffer.concat(chunks));
      else reject(new Error('the lane closed before its handshake'));
    });
  });
}

export function runModelsConformanceTests(
  setup: () => Promise<ModelsConformanceSetup>,
  options: { reactionTimeoutMs?: number } = {},
): void {
  const reaction = options.reactionTimeoutMs ?? 15_000;

  describe('allerac models protocol conformance', () => {
    let context: ModelsConformanceSetup;
    let target: Multiaddr;
    let prober: Prober;

    const exchange = async (get: ModelsGetMessage | Record<string, unknown>): Promise<Exchange> => {
      const stream: Stream = await prober.node.dialProtocol(target, MODELS_PROTOCOL, {
        signal: AbortSignal.timeout(reaction),
      });
      // Raw JSON on purpose: the suite sends what the validator of a sender would refuse.
      const payload = Buffer.from(JSON.stringify(get));
      stream.send(Buffer.concat([varint(payload.length), payload]));
      await stream.close();
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of stream as AsyncIterable<Uint8Array | { subarray(): Uint8Array }>) {
          chunks.push(Buffer.from(chunk instanceof Uint8Array ? chunk : chunk.subarray()));
        }
      } catch {
        // a reset: whatever arrived before it is what the subject sent
      }
      const all = Buffer.concat(chunks);
      const prefix = decodeVarint(all);
      if (prefix === undefined || all.length < prefix.length + prefix.value) return { rest: all };
      const reply = decodePayload(all.subarray(prefix.length, prefix.length + prefix.value), {
        allowedTypes: ['models-reply'],
      }) as ModelsReplyMessage;
      return { reply, rest: all.subarray(prefix.length + prefix.value) };
    };
    const manifestGet = (): ModelsGetMessage => ({
      type: 'models-get',
      kind: 'manifest',
      ...context.subject.model,
    });
    const manifest = async () => {
      const { rest } = await exchange(manifestGet());
      return JSON.parse(rest.toString('utf8')) as {
        config: { digest: string; size: number };
        layers: Array<{ digest: string; size: number }>;
      };
    };

    beforeAll(async () => {
      context = await setup();
      target = multiaddr(context.subject.multiaddrs[0]!);
      prober = await createProber(context.subject.meshKey);
    }, 60_000);
    afterAll(async () => {
      await prober?.stop();
      await context?.teardown();
    });

    it('should answer a manifest with 200 and exactly its bytes', async () => {
      const { reply, rest } = await exchange(manifestGet());
      expect(reply).toMatchObject({ type: 'models-reply', status: 200 });
      expect(reply!.length).toBe(reply!.size);
      expect(rest.length).toBe(reply!.length);
      const parsed = JSON.parse(rest.toString('utf8')) as { layers: Array<{ digest: string }> };
      for (const layer of parsed.layers) expect(layer.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it('should send a whole blob whose sha256 is its digest', async () => {
      const { config } = await manifest();
      const { reply, rest } = await exchange({ type: 'models-get', kind: 'blob', digest: config.digest });
      expect(reply).toMatchObject({ status: 200, size: config.size, length: config.size });
      expect(`sha256:${createHash('sha256').update(rest).digest('hex')}`).toBe(config.digest);
    });

    it('should answer a range with 206 and only those bytes, and a head with the size alone', async () => {
      const { config } = await manifest();
      const whole = (await exchange({ type: 'models-get', kind: 'blob', digest: config.digest })).rest;
      const range = await exchange({
        type: 'models-get',
        kind: 'blob',
        digest: config.digest,
        offset: 3,
        length: 5,
      });
      expect(range.reply).toMatchObject({ status: 206, size: config.size, length: 5 });
      expect(range.rest.equals(whole.subarray(3, 8))).toBe(true);
      const head = await exchange({ type: 'models-get', kind: 'blob', digest: config.digest, head: true });
      expect(head.reply).toMatchObject({ status: 200, size: config.size, length: 0 });
      expect(head.rest.length).toBe(0);
    });

    it('should answer 404 for what it does not hold, and 416 for a range past the end', async () => {
      const missing = await exchange({ ...manifestGet(), tag: 'no-such-tag' });
      expect(missing.reply).toMatchObject({ status: 404, length: 0 });
      const blob = await exchange({ type: 'models-get', kind: 'blob', digest: `sha256:${'0'.repeat(64)}` });
      expect(blob.reply).toMatchObject({ status: 404, length: 0 });
      const { config } = await manifest();
      const past = await exchange({
        type: 'models-get',
        kind: 'blob',
        digest: config.digest,
        offset: config.size + 1,
      });
      expect(past.reply).toMatchObject({ status: 416, length: 0 });
    });

    it('should carry a range asked over the bulk lane exactly once, or send it on the stream', async () => {
      const { config } = await manifest();
      const whole = (await exchange({ type: 'models-get', kind: 'blob', digest: config.digest })).rest;
      const { reply, rest } = await exchange({
        type: 'models-get',
        kind: 'blob',
        digest: config.digest,
        offset: 3,
        length: 5,
        lane: true,
      });
      expect(reply).toMatchObject({ status: 206, size: config.size });
      const ticket = reply!.lane;
      if (ticket === undefined) {
        // A holder without a lane answers as if the field were not there.
        expect(rest.equals(whole.subarray(3, 8))).toBe(true);
        return;
      }
      expect(reply!.length).toBe(0);
      expect(rest.length).toBe(0);
      expect(ticket.length).toBe(5);
      // The lane listens on the host of the mesh connection.
      const host = /^\/(?:ip4|ip6|dns4|dns6)\/([^/]+)\//.exec(target.toString())?.[1] ?? '127.0.0.1';
      expect((await readLane(host, ticket, reaction)).equals(whole.subarray(3, 8))).toBe(true);
      // A ticket is good for one handshake; a wrong key gets no byte either.
      await expect(readLane(host, ticket, reaction)).rejects.toThrow();
      const next = (
        await exchange({ type: 'models-get', kind: 'blob', digest: config.digest, length: 5, lane: true })
      ).reply!.lane!;
      await expect(
        readLane(host, { ...next, key: Buffer.alloc(32, 7).toString('base64') }, reaction),
      ).rejects.toThrow();
    });

    it('should send not a byte for a name or digest that could leave the models directory', async () => {
      const attempts: Array<Record<string, unknown>> = [
        { ...manifestGet(), namespace: '..' },
        { ...manifestGet(), model: '../../../../etc' },
        { ...manifestGet(), host: '..', namespace: '..', model: '..', tag: 'passwd' },
        { ...manifestGet(), tag: '../../blobs' },
        { type: 'models-get', kind: 'blob', digest: 'sha256:../../../etc/passwd' },
        { type: 'models-get', kind: 'blob', digest: `sha256-${'a'.repeat(64)}` },
      ];
      for (const attempt of attempts) {
        const { reply, rest } = await exchange(attempt);
        if (reply !== undefined) expect(reply.status).toBeGreaterThanOrEqual(400);
        expect(rest.length).toBe(0);
      }
    });
  });
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}
