/**
 * Conformance checks of key rotation (protocol.md §9): a subject adopts a rotation only when it is
 * signed by its issuer, a current member, follows the subject's epoch and blocklist, is recent,
 * and is corroborated by a majority of its other peers; and a `key-notice` takes it off the old key.
 * They assume a fresh subject (epoch 0, nobody blocked) and run last: they change its key.
 */
import { randomBytes } from 'node:crypto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Connection, PrivateKey, Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { Multiaddr } from '@multiformats/multiaddr';
import { expect, it } from 'vitest';
import { signedCardMessage } from '../card-signing.js';
import { encodeFrame } from '../codec.js';
import { HEARTBEAT_INTERVAL_MS, KEY_PROTOCOL, KEY_ROTATION_SETTLE_MS } from '../constants.js';
import { FramedStream } from '../framed-stream.js';
import { keyRotationDigest, meshKeyId, signKeyRotation } from '../key-rotation.js';
import type { KeyRotation, Message } from '../messages.js';
import { type KeyAnswer, type Prober, sampleCard, waitUntil } from './prober.js';

/** What the checks need from the suite around them. */
export interface KeyRotationCheckContext {
  /** Longest wait for the subject to react (ms). */
  reaction: number;
  /** Timeout of one check (ms). */
  testTimeout: number;
  /** The subject's peer id. */
  subjectPeer(): string;
  /** The subject's address; it must keep listening there after a rotation. */
  target(): Multiaddr;
  /** The subject's mesh key now. */
  meshKey(): Uint8Array;
  /** Records the subject's new key after it adopted a rotation. */
  setMeshKey(key: Uint8Array): void;
  /** Stops every prober so far, so a check knows exactly which peers the subject has. */
  dropProbers(): Promise<void>;
  /** Starts a prober (on the subject's key unless given another). */
  prober(meshKey?: Uint8Array, answer?: KeyAnswer): Promise<Prober>;
  /** Connects a prober to the subject. */
  connect(p: Prober): Promise<Connection>;
  /** Opens a card stream from a prober to the subject. */
  cardStream(p: Prober): Promise<Stream>;
  /** Waits until the subject has cut the prober off and refuses it. */
  expectCutOff(p: Prober): Promise<void>;
  /** Whether the prober is connected to the subject. */
  connected(p: Prober): boolean;
}

/** Registers the key-rotation checks inside the suite's `describe`. */
export function registerKeyRotationChecks(ctx: KeyRotationCheckContext): void {
  const heartbeats = new Map<Prober, NodeJS.Timeout>();

  /** A prober that the subject counts as a member: it sent its card and keeps sending heartbeats. */
  const member = async (meshKey?: Uint8Array, answer?: KeyAnswer): Promise<Prober> => {
    const p = await ctx.prober(meshKey, answer);
    const stream = await ctx.cardStream(p);
    stream.send(encodeFrame(await signedCardMessage('card', sampleCard(p.peerId), p.key)));
    let seq = 0;
    const beat = () => {
      if (stream.status === 'open')
        stream.send(encodeFrame({ type: 'heartbeat', seq: ++seq, sentAt: Date.now() }));
    };
    beat();
    heartbeats.set(p, setInterval(beat, HEARTBEAT_INTERVAL_MS));
    const stop = p.stop;
    p.stop = async () => {
      clearInterval(heartbeats.get(p));
      await stop();
    };
    // Its card has arrived and been answered once the subject's own card and a heartbeat come back.
    await waitUntil('the subject to greet the member', ctx.reaction, () =>
      p.received.some((m) => m.type === 'heartbeat'),
    );
    return p;
  };

  /** Sends one key message to the subject and reads its answer. */
  const ask = async (p: Prober, message: Message): Promise<Message | undefined> => {
    const stream = await p.node.dialProtocol(ctx.target(), KEY_PROTOCOL, {
      signal: AbortSignal.timeout(ctx.reaction),
    });
    const framed = new FramedStream(stream, { protocol: KEY_PROTOCOL });
    await framed.write(message);
    const answer = await framed.read({ signal: AbortSignal.timeout(ctx.reaction) }).catch(() => undefined);
    await framed.close().catch(() => undefined);
    return answer;
  };

  let outsider = '';
  const newcomer = async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();

  /** A rotation by `p` that a fresh subject should accept, unless `change` spoils it. */
  const rotation = async (p: Prober, change: Partial<KeyRotation> = {}, signer: PrivateKey = p.key) => {
    outsider ||= await newcomer();
    const newKey = Uint8Array.from(randomBytes(32));
    const record: KeyRotation = {
      issuer: p.peerId,
      epoch: 1,
      keyId: meshKeyId(newKey),
      previousKeyId: meshKeyId(ctx.meshKey()),
      blocked: [outsider],
      issuedAt: Date.now(),
      ...change,
    };
    const signed = await signKeyRotation(record, signer);
    return {
      newKey,
      digest: keyRotationDigest(record),
      signed,
      message: { type: 'key-rotate' as const, ...signed, newKey: Buffer.from(newKey).toString('hex') },
    };
  };

  const refuses = (name: string, reason: string, change: () => Promise<Partial<KeyRotation>>) =>
    it(
      `should refuse a rotation ${name} and keep its key`,
      async () => {
        await ctx.dropProbers();
        const p = await member();
        const { message } = await rotation(p, await change());
        expect(await ask(p, message)).toMatchObject({ type: 'key-ack', refused: reason });
        // Still on the old key: a newcomer on it is greeted.
        const q = await member();
        expect(ctx.connected(q)).toBe(true);
      },
      ctx.testTimeout,
    );

  const cutsOff = (name: string, build: (p: Prober) => Promise<Message>) =>
    it(
      `should cut off a peer that sends a rotation ${name}`,
      async () => {
        await ctx.dropProbers();
        const p = await member();
        await ask(p, await build(p)).catch(() => undefined);
        await ctx.expectCutOff(p);
        const q = await member();
        expect(ctx.connected(q)).toBe(true);
      },
      ctx.testTimeout,
    );

  cutsOff('not signed by its issuer', async (p) => {
    const impostor = await generateKeyPair('Ed25519');
    return (await rotation(p, {}, impostor)).message;
  });
  cutsOff('issued by another node (relayed)', async (p) => {
    const other = await generateKeyPair('Ed25519');
    return (await rotation(p, { issuer: peerIdFromPrivateKey(other).toString() }, other)).message;
  });
  cutsOff(
    'that removes the subject itself',
    async (p) => (await rotation(p, { blocked: [ctx.subjectPeer()] })).message,
  );
  cutsOff('that removes its own issuer', async (p) => (await rotation(p, { blocked: [p.peerId] })).message);
  cutsOff('that removes two peers at once', async (p) => {
    return (await rotation(p, { blocked: [await newcomer(), await newcomer()] })).message;
  });
  cutsOff('whose new key is not the one it names', async (p) => {
    const { message } = await rotation(p);
    return { ...message, newKey: Buffer.from(randomBytes(32)).toString('hex') };
  });

  refuses('that skips an epoch', 'epoch', async () => ({ epoch: 2 }));
  refuses('of a key the subject does not hold', 'wrong-key', async () => ({
    previousKeyId: meshKeyId(randomBytes(32)),
  }));
  refuses('issued a day ago (a replay)', 'clock', async () => ({ issuedAt: Date.now() - 24 * 3_600_000 }));
  refuses('that removes nobody', 'blocklist', async () => ({ blocked: [] }));

  it(
    'should refuse a rotation from a peer that has not sent its card',
    async () => {
      await ctx.dropProbers();
      const p = await ctx.prober();
      await ctx.connect(p);
      const { message } = await rotation(p);
      expect(await ask(p, message)).toMatchObject({ type: 'key-ack', refused: 'not-trusted' });
    },
    ctx.testTimeout,
  );

  it(
    'should not adopt a rotation that its other peers do not hold',
    async () => {
      await ctx.dropProbers();
      const bystander = await member();
      const issuer = await member();
      const { message, digest } = await rotation(issuer);
      expect(await ask(issuer, message)).toMatchObject({ type: 'key-ack', holds: digest });
      const heldAt = Date.now();
      // The subject asks the bystander, who does not hold it.
      await waitUntil('the subject to check the rotation with its other peer', ctx.reaction, () =>
        bystander.keyRequests.some((m) => m.type === 'key-check' && m.digest === digest),
      );
      const settled = heldAt + KEY_ROTATION_SETTLE_MS + 2 * HEARTBEAT_INTERVAL_MS;
      await waitUntil('heartbeats after the settle deadline', KEY_ROTATION_SETTLE_MS + ctx.reaction, () =>
        bystander.receivedAt.some((t, i) => t > settled && bystander.received[i]?.type === 'heartbeat'),
      );
      expect(ctx.connected(bystander)).toBe(true);
      expect(ctx.connected(issuer)).toBe(true);
    },
    ctx.testTimeout + KEY_ROTATION_SETTLE_MS,
  );

  it(
    'should adopt a rotation from its only peer and come back on the new key',
    async () => {
      await ctx.dropProbers();
      const issuer = await member();
      const { message, digest, newKey } = await rotation(issuer);
      expect(await ask(issuer, message)).toMatchObject({ type: 'key-ack', holds: digest });
      await waitUntil('the subject to leave the old key', ctx.reaction, () => !ctx.connected(issuer));
      ctx.setMeshKey(newKey);
      const back = await member(newKey);
      expect(back.received.find((m) => m.type === 'card')).toBeDefined();
      const state = await ask(back, { type: 'key-state' });
      expect(state).toMatchObject({
        type: 'key-ack',
        epoch: 1,
        current: { rotation: { keyId: meshKeyId(newKey) } },
      });
    },
    ctx.testTimeout,
  );

  it(
    'should stop talking on its key once told that the home retired it',
    async () => {
      await ctx.dropProbers();
      const neighbour = await member();
      const herald = await ctx.prober();
      await ctx.connect(herald);
      const key = Uint8Array.from(randomBytes(32));
      const notice = await signKeyRotation(
        {
          issuer: herald.peerId,
          epoch: 2,
          keyId: meshKeyId(key),
          previousKeyId: meshKeyId(ctx.meshKey()),
          blocked: [outsider, await newcomer()],
          issuedAt: Date.now() - 3_600_000,
        },
        herald.key,
      );
      expect(await ask(herald, { type: 'key-notice', ...notice })).toMatchObject({ type: 'key-ack' });
      await ctx.expectCutOff(neighbour);
      const stranger = await ctx.prober();
      await ctx.expectCutOff(stranger);
    },
    ctx.testTimeout,
  );
}
