/**
 * The conformance suite's stand-in peer: a libp2p host with a fresh identity and the subject's
 * mesh key, which records what the subject sends it and answers the subject's key requests.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Libp2p, PrivateKey, Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { FrameDecoder } from '../codec.js';
import { CARD_PROTOCOL, KEY_PROTOCOL, MAX_CARD_FRAME_BYTES, PROTOCOL_VERSION } from '../constants.js';
import { FramedStream } from '../framed-stream.js';
import type { KeyAckMessage, Message, NodeCard } from '../messages.js';

/** A peer played by the suite. */
export interface Prober {
  /** Its libp2p host. */
  node: Libp2p;
  /** Its identity key. */
  key: PrivateKey;
  /** Its peer id. */
  peerId: string;
  /** Frames received on inbound card streams, with when each arrived. */
  received: Message[];
  /** When each of `received` arrived, ms since the Unix epoch. */
  receivedAt: number[];
  /** Key requests the subject sent it (`key-check`, `key-state`). */
  keyRequests: Message[];
  /** Stops the host. */
  stop(): Promise<void>;
}

/** What the prober answers to a key request: by default, "I hold nothing". */
export type KeyAnswer = (request: Message) => KeyAckMessage;

/** The swarm-key file form of a raw key, as libp2p pnet takes it. */
export function swarmKey(raw: Uint8Array): Uint8Array {
  return new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${Buffer.from(raw).toString('hex')}\n`);
}

/** Starts a prober on `meshKey`. */
export async function createProber(
  meshKey: Uint8Array,
  answer: KeyAnswer = () => ({ type: 'key-ack', epoch: 0 }),
): Promise<Prober> {
  const key = await generateKeyPair('Ed25519');
  const node = await createLibp2p({
    privateKey: key,
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: preSharedKey({ psk: swarmKey(meshKey) }),
    connectionGater: { denyDialMultiaddr: () => false },
  });
  const received: Message[] = [];
  const receivedAt: number[] = [];
  const keyRequests: Message[] = [];
  await node.handle(CARD_PROTOCOL, (stream: Stream) => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX_CARD_FRAME_BYTES });
    void (async () => {
      try {
        for await (const chunk of stream) {
          for (const m of decoder.push(chunk instanceof Uint8Array ? chunk : chunk.subarray())) {
            received.push(m);
            receivedAt.push(Date.now());
          }
        }
      } catch {
        // the stream ended badly; the checks look at what arrived
      }
    })();
  });
  await node.handle(KEY_PROTOCOL, (stream: Stream) => {
    const framed = new FramedStream(stream, { protocol: KEY_PROTOCOL });
    void (async () => {
      try {
        const request = await framed.read();
        if (request === undefined) return;
        keyRequests.push(request);
        await framed.write(answer(request));
        await framed.close();
      } catch {
        framed.abort(new Error('bad key request'));
      }
    })();
  });
  return {
    node,
    key,
    peerId: peerIdFromPrivateKey(key).toString(),
    received,
    receivedAt,
    keyRequests,
    stop: async () => {
      await node.stop();
    },
  };
}

/** Polls `predicate` every 50 ms until it holds, or throws after `timeoutMs`. */
export async function waitUntil(
  what: string,
  timeoutMs: number,
  predicate: () => boolean | Promise<boolean>,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A minimal valid card for `peerId`. */
export function sampleCard(peerId: string): NodeCard {
  return {
    name: 'conformance-prober',
    peerId,
    softwareVersion: 'conformance',
    protocolVersion: PROTOCOL_VERSION,
    hardware: { cpuModel: 'test', cores: 1, ramTotal: 1, ramFree: 1, gpus: [], diskFree: 1 },
    backend: { state: 'down' },
    models: [],
    load: { activeTasks: 0, queueDepth: 0, slots: 1, tokensPerSecond: {} },
    specializations: [],
    issuedAt: Date.now(),
    seq: 1,
  };
}
