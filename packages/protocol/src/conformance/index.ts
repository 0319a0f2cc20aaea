/**
 * Conformance suite for implementations of the Allerac mesh protocol. Call
 * `runProtocolConformanceTests(setup)` inside a vitest file; `setup` starts the implementation
 * under test on loopback and returns how to dial it. Each check dials it with a fresh libp2p
 * identity (TCP, noise, yamux, pnet with the subject's mesh key) and plays a peer, good or bad.
 * The subject must be a fresh node (key epoch 0, nobody blocked, no other peers) that keeps its
 * addresses across a key rotation; the key-rotation checks run last, as they change its key.
 *
 * @example
 * ```ts
 * runProtocolConformanceTests(async () => {
 *   const node = await startMyNode();
 *   return { subject: { multiaddrs: node.addresses(), meshKey: node.meshKey }, teardown: () => node.stop() };
 * });
 * ```
 */
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Connection, Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedCardMessage, verifyCardMessage } from '../card-signing.js';
import { encodeFrame, encodeVarint } from '../codec.js';
import {
  CARD_PROTOCOL,
  FIRST_FRAME_TIMEOUT_MS,
  FRAME_COMPLETION_TIMEOUT_MS,
  MAX_CARD_FRAME_BYTES,
  PROTOCOL_VERSION,
} from '../constants.js';
import { registerKeyRotationChecks } from './key-rotation-checks.js';
import { createProber, type KeyAnswer, type Prober, sampleCard, waitUntil } from './prober.js';

export {
  type InferConformanceSetup,
  type InferConformanceSubject,
  runInferConformanceTests,
} from './infer-checks.js';
export {
  type ModelsConformanceSetup,
  type ModelsConformanceSubject,
  runModelsConformanceTests,
} from './models-checks.js';

/** How to reach the implementation under test. */
export interface ConformanceSubject {
  /** Its listen multiaddrs on loopback, each ending in /p2p/<peer id>. */
  multiaddrs: string[];
  /** The raw 32-byte mesh key it uses. */
  meshKey: Uint8Array;
}

/** What the setup function returns. */
export interface ConformanceSetup {
  /** The running implementation. */
  subject: ConformanceSubject;
  /** Stops it and removes its files. */
  teardown(): Promise<void>;
}

/** Tuning of the suite. */
export interface ConformanceOptions {
  /** Longest wait for the subject to react to something (ms); default 15 s. */
  reactionTimeoutMs?: number;
}

const ended = (stream: Stream) => stream.status !== 'open';

/** Registers the conformance checks (vitest `describe`/`it`) against the subject from `setup`. */
export function runProtocolConformanceTests(
  setup: () => Promise<ConformanceSetup>,
  options: ConformanceOptions = {},
): void {
  const reaction = options.reactionTimeoutMs ?? 15_000;
  const testTimeout = reaction * 3 + FIRST_FRAME_TIMEOUT_MS + FRAME_COMPLETION_TIMEOUT_MS;

  describe('allerac protocol conformance', () => {
    let context: ConformanceSetup;
    let target: Multiaddr;
    let subjectPeer: string;
    let meshKey: Uint8Array;
    const probers: Prober[] = [];
    const prober = async (key: Uint8Array = meshKey, answer?: KeyAnswer) => {
      const p = await createProber(key, answer);
      probers.push(p);
      return p;
    };
    const connected = (p: Prober) =>
      p.node.getConnections().some((c) => c.remotePeer.toString() === subjectPeer);
    /** Retries briefly: an implementation may rate-limit new connections from one host. */
    const retry = async <T>(fn: () => Promise<T>): Promise<T> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await fn();
        } catch (err) {
          if (attempt >= 4) throw err;
          await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
        }
      }
    };
    const connect = (p: Prober): Promise<Connection> =>
      retry(() => p.node.dial(target, { signal: AbortSignal.timeout(reaction) }));
    const cardStream = (p: Prober) =>
      retry(() => p.node.dialProtocol(target, CARD_PROTOCOL, { signal: AbortSignal.timeout(reaction) }));
    const cardStreamOnce = (p: Prober) =>
      p.node.dialProtocol(target, CARD_PROTOCOL, { signal: AbortSignal.timeout(reaction) });
    const expectCutOff = async (p: Prober) => {
      await waitUntil('the subject to close the connection', reaction, () => !connected(p));
      await expect(cardStreamOnce(p)).rejects.toThrow();
    };

    beforeAll(async () => {
      context = await setup();
      meshKey = context.subject.meshKey;
      const address = context.subject.multiaddrs.find((a) => a.includes('/p2p/'));
      if (address === undefined) throw new Error('the subject has no multiaddr with /p2p/');
      target = multiaddr(address);
      subjectPeer = address.slice(address.lastIndexOf('/p2p/') + 5);
    }, 60_000);

    afterAll(async () => {
      await Promise.allSettled(probers.map((p) => p.stop()));
      await context?.teardown();
    }, 60_000);

    it(
      'should refuse an unknown protocol version cleanly and keep the connection',
      async () => {
        const p = await prober();
        const connection = await connect(p);
        await expect(
          connection.newStream('/allerac/card/9.0.0', { signal: AbortSignal.timeout(reaction) }),
        ).rejects.toThrow();
        expect(connection.status).toBe('open');
        const stream = await connection.newStream(CARD_PROTOCOL, { signal: AbortSignal.timeout(reaction) });
        expect(stream.protocol).toBe(CARD_PROTOCOL);
        stream.abort(new Error('done'));
      },
      testTimeout,
    );

    it(
      'should send a card that verifies against its peer id after connecting',
      async () => {
        const p = await prober();
        await connect(p);
        await waitUntil('a card', reaction, () => p.received.some((m) => m.type === 'card'));
        const card = p.received.find((m) => m.type === 'card');
        if (card?.type !== 'card') throw new Error('unreachable');
        await expect(verifyCardMessage(card, subjectPeer, PROTOCOL_VERSION)).resolves.toBeDefined();
        expect(p.received[0]?.type).toBe('card');
      },
      testTimeout,
    );

    it(
      'should keep a peer that sends a valid card and heartbeats, and keep sending it frames',
      async () => {
        const p = await prober();
        const stream = await cardStream(p);
        stream.send(encodeFrame(await signedCardMessage('card', sampleCard(p.peerId), p.key)));
        stream.send(encodeFrame({ type: 'heartbeat', seq: 1, sentAt: Date.now() }));
        await waitUntil('a card', reaction, () => p.received.some((m) => m.type === 'card'));
        const before = p.received.length;
        await waitUntil('more frames from the subject', reaction, () => p.received.length > before);
        expect(connected(p)).toBe(true);
        stream.abort(new Error('done'));
      },
      testTimeout,
    );

    it(
      'should reset an oversize frame and cut the peer off',
      async () => {
        const p = await prober();
        const stream = await cardStream(p);
        stream.send(encodeVarint(MAX_CARD_FRAME_BYTES + 1));
        stream.send(new Uint8Array(1024));
        await expectCutOff(p);
      },
      testTimeout,
    );

    it(
      'should cut off a peer that sends a malformed frame',
      async () => {
        const p = await prober();
        const stream = await cardStream(p);
        const junk = new TextEncoder().encode('this is not json');
        stream.send(encodeVarint(junk.length));
        stream.send(junk);
        await expectCutOff(p);
      },
      testTimeout,
    );

    it(
      'should cut off a peer whose card has a bad signature',
      async () => {
        const p = await prober();
        const impostor = await generateKeyPair('Ed25519');
        const stream = await cardStream(p);
        stream.send(encodeFrame(await signedCardMessage('card', sampleCard(p.peerId), impostor)));
        await expectCutOff(p);
      },
      testTimeout,
    );

    it(
      'should cut off a peer whose card names another peer',
      async () => {
        const p = await prober();
        const other = await generateKeyPair('Ed25519');
        const stream = await cardStream(p);
        const card = sampleCard(peerIdFromPrivateKey(other).toString());
        stream.send(encodeFrame(await signedCardMessage('card', card, other)));
        await expectCutOff(p);
      },
      testTimeout,
    );

    it(
      'should not hang on a stream truncated inside a frame',
      async () => {
        const p = await prober();
        const stream = await cardStream(p);
        const frame = encodeFrame(await signedCardMessage('card', sampleCard(p.peerId), p.key));
        stream.send(frame.subarray(0, Math.floor(frame.length / 2)));
        await stream.close({ signal: AbortSignal.timeout(reaction) }).catch(() => undefined);
        await waitUntil(
          'the subject to end the truncated stream',
          reaction,
          () => ended(stream) || !connected(p),
        );
      },
      testTimeout,
    );

    it(
      'should time out a stream that stalls inside a frame',
      async () => {
        const p = await prober();
        const stream = await cardStream(p);
        stream.send(encodeVarint(100));
        stream.send(new TextEncoder().encode('{"type":'));
        await waitUntil(
          'the subject to end the stalled stream',
          reaction + FRAME_COMPLETION_TIMEOUT_MS,
          () => ended(stream) || !connected(p),
        );
      },
      testTimeout,
    );

    it(
      'should time out a stream that never sends its first frame',
      async () => {
        const p = await prober();
        const stream = await cardStream(p);
        await waitUntil(
          'the subject to end the silent stream',
          reaction + FIRST_FRAME_TIMEOUT_MS,
          () => ended(stream) || !connected(p),
        );
      },
      testTimeout,
    );

    it(
      'should cut off a misbehaving peer without harming a well-behaved one',
      async () => {
        const good = await prober();
        const goodStream = await cardStream(good);
        goodStream.send(encodeFrame(await signedCardMessage('card', sampleCard(good.peerId), good.key)));
        await waitUntil('a card for the good peer', reaction, () =>
          good.received.some((m) => m.type === 'card'),
        );

        const bad = await prober();
        const badStream = await cardStream(bad);
        badStream.send(encodeVarint(MAX_CARD_FRAME_BYTES * 4));
        await expectCutOff(bad);

        const before = good.received.length;
        await waitUntil(
          'frames to keep reaching the good peer',
          reaction,
          () => good.received.length > before,
        );
        expect(connected(good)).toBe(true);
        const again = await cardStream(good);
        expect(again.protocol).toBe(CARD_PROTOCOL);
        again.abort(new Error('done'));
        goodStream.abort(new Error('done'));
      },
      testTimeout,
    );

    // Every stream counts, also those libp2p refuses before any handler sees them: a subject must
    // count opens where streams arrive, not after protocol negotiation.
    it('should cut off a peer that floods it with streams', { timeout: testTimeout }, async () => {
      const p = await prober();
      const connection = await connect(p);
      const opened: Promise<unknown>[] = [];
      for (let i = 0; i < 200 && connection.status === 'open'; i++) {
        opened.push(
          connection
            // libp2p caps a dialler at 64 open outbound streams per protocol by default, which
            // would stop this flood at exactly the subject's threshold: a real flooder lifts it.
            .newStream(CARD_PROTOCOL, { signal: AbortSignal.timeout(reaction), maxOutboundStreams: 1024 })
            .then((s) => s.send(encodeVarint(1)))
            .catch(() => undefined),
        );
        if (i % 20 === 19) await Promise.all(opened.splice(0));
      }
      await Promise.all(opened);
      await expectCutOff(p);
    });

    registerKeyRotationChecks({
      reaction,
      testTimeout,
      subjectPeer: () => subjectPeer,
      target: () => target,
      meshKey: () => meshKey,
      setMeshKey: (key) => {
        meshKey = key;
      },
      dropProbers: async () => {
        await Promise.allSettled(probers.splice(0).map((p) => p.stop()));
      },
      prober,
      connect,
      cardStream,
      expectCutOff,
      connected,
    });
  });
}
