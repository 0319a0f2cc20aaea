/**
 * The pairing exchange, spoken over plain TCP on the inviter's pairing port (docs/protocol.md,
 * "Invitations"). Four frames, each a 2-byte big-endian length and a JSON object:
 *
 *   joiner → inviter  pair-hello      { nonce, key }   16 random bytes, an ephemeral X25519 key
 *   inviter → joiner  pair-challenge  { nonce, key }
 *   joiner → inviter  pair-proof      { mac }          HMAC-SHA256(macKey, "join" | transcript)
 *   inviter → joiner  pair-welcome    { iv, sealed }   AES-256-GCM(encKey, Welcome), or pair-refused
 *
 * macKey and encKey come from HKDF-SHA256 over the invitation's secret and the X25519 shared
 * secret, salted with the transcript hash: a passive listener has neither, and a joiner without
 * the secret cannot make the proof.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { MeshUpstreamError } from './errors.js';

/** Version tag mixed into every derived key and MAC. */
const LABEL = 'allerac-pair/1';
/** Largest frame either side accepts: a welcome with 16 addresses fits in a quarter of it. */
export const MAX_PAIRING_FRAME_BYTES = 4096;
/** The whole exchange must finish within this; a stalled peer holds nothing longer. */
export const PAIRING_EXCHANGE_TIMEOUT_MS = 10_000;
/** Most addresses a welcome carries. */
export const MAX_WELCOME_ADDRESSES = 16;
const NONCE_BYTES = 16;
const KEY_BYTES = 32;

/** Why an inviter refused a joiner. */
export type PairingRefusal =
  | 'no-invitation'
  | 'wrong-code'
  | 'expired'
  | 'used'
  | 'burnt'
  | 'bad-frame'
  | 'busy';

/** The frames of the exchange. */
export type PairingMessage =
  | { type: 'pair-hello' /** Format version. */; version: 1; nonce: string; key: string }
  | { type: 'pair-challenge'; nonce: string; key: string }
  | { type: 'pair-proof' /** base64 HMAC-SHA256. */; mac: string }
  | {
      type: 'pair-welcome' /** base64 GCM nonce. */;
      iv: string /** base64 ciphertext and tag. */;
      sealed: string;
    }
  | { type: 'pair-refused'; reason: PairingRefusal };

/** What the inviter hands a joiner that proved it holds the code. */
export interface Welcome {
  /** The home's 32-byte mesh key, base64. */
  meshKey: string;
  /** The inviter's libp2p peer id. */
  peerId: string;
  /** The inviter's listen multiaddrs (with /p2p/), to dial without mDNS. */
  addresses: string[];
  /** The inviter's name. */
  name: string;
}

/** A peer broke the exchange: a malformed, oversized or unauthenticated frame, or silence. */
export class PairingProtocolError extends MeshUpstreamError {
  override name = 'PairingProtocolError';
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** Decodes base64 of an exact length, or throws PairingProtocolError. */
export function fromB64(text: unknown, length: number | undefined, what: string): Buffer {
  if (
    typeof text !== 'string' ||
    text.length > 2 * MAX_PAIRING_FRAME_BYTES ||
    !/^[A-Za-z0-9+/]*={0,2}$/.test(text)
  )
    throw new PairingProtocolError(`${what} is not base64`);
  const bytes = Buffer.from(text, 'base64');
  if (length !== undefined && bytes.length !== length)
    throw new PairingProtocolError(`${what} has a wrong length`);
  return bytes;
}

/** Encodes a message as one frame. */
export function encodeFrame(message: PairingMessage): Buffer {
  const body = Buffer.from(JSON.stringify(message));
  if (body.length > MAX_PAIRING_FRAME_BYTES) throw new PairingProtocolError('pairing frame too large');
  const head = Buffer.alloc(2);
  head.writeUInt16BE(body.length);
  return Buffer.concat([head, body]);
}

const REFUSALS = new Set<PairingRefusal>([
  'no-invitation',
  'wrong-code',
  'expired',
  'used',
  'burnt',
  'bad-frame',
  'busy',
]);

/** Checks a decoded frame's shape; throws PairingProtocolError for anything else. */
export function parseMessage(body: Buffer): PairingMessage {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new PairingProtocolError('pairing frame is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new PairingProtocolError('pairing frame is not an object');
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'pair-hello':
      if (m.version !== 1) throw new PairingProtocolError('unknown pairing version');
      fromB64(m.nonce, NONCE_BYTES, 'nonce');
      fromB64(m.key, KEY_BYTES, 'key');
      return { type: 'pair-hello', version: 1, nonce: m.nonce as string, key: m.key as string };
    case 'pair-challenge':
      fromB64(m.nonce, NONCE_BYTES, 'nonce');
      fromB64(m.key, KEY_BYTES, 'key');
      return { type: 'pair-challenge', nonce: m.nonce as string, key: m.key as string };
    case 'pair-proof':
      fromB64(m.mac, 32, 'mac');
      return { type: 'pair-proof', mac: m.mac as string };
    case 'pair-welcome':
      fromB64(m.iv, 12, 'iv');
      fromB64(m.sealed, undefined, 'sealed');
      return { type: 'pair-welcome', iv: m.iv as string, sealed: m.sealed as string };
    case 'pair-refused':
      if (!REFUSALS.has(m.reason as PairingRefusal)) throw new PairingProtocolError('unknown refusal');
      return { type: 'pair-refused', reason: m.reason as PairingRefusal };
    default:
      throw new PairingProtocolError('unknown pairing frame');
  }
}

/** One side's ephemeral X25519 key and nonce. */
export interface Ephemeral {
  privateKey: KeyObject;
  /** Raw 32-byte public key. */
  publicKey: Buffer;
  nonce: Buffer;
}

/** A fresh ephemeral key and nonce, one per exchange. */
export function createEphemeral(): Ephemeral {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    privateKey,
    publicKey: Buffer.from(jwk.x as string, 'base64url'),
    nonce: randomBytes(NONCE_BYTES),
  };
}

/** The keys both sides derive once hello and challenge are known. */
export interface SessionKeys {
  /** Derives the MAC and encryption keys for one candidate secret. */
  forSecret(secret: Uint8Array): { proof: Buffer; encKey: Buffer };
  /** Hash of the transcript: the GCM additional data. */
  transcript: Buffer;
}

/**
 * The transcript and the X25519 secret of an exchange; `forSecret` then yields the expected proof
 * and the welcome key for a candidate invitation secret.
 */
export function sessionKeys(
  own: Ephemeral,
  peerKey: Buffer,
  hello: { nonce: Buffer; key: Buffer },
  challenge: { nonce: Buffer; key: Buffer },
): SessionKeys {
  let shared: Buffer;
  try {
    shared = diffieHellman({
      privateKey: own.privateKey,
      publicKey: createPublicKey({
        key: { kty: 'OKP', crv: 'X25519', x: peerKey.toString('base64url') },
        format: 'jwk',
      }),
    });
  } catch {
    throw new PairingProtocolError('unusable X25519 key');
  }
  // A low-order point gives an all-zero secret, which would leave only the code to protect the key.
  if (shared.every((byte) => byte === 0)) throw new PairingProtocolError('unusable X25519 key');
  const transcript = createHash('sha256')
    .update(LABEL)
    .update(hello.nonce)
    .update(hello.key)
    .update(challenge.nonce)
    .update(challenge.key)
    .digest();
  return {
    transcript,
    forSecret(secret) {
      const okm = Buffer.from(
        hkdfSync('sha256', Buffer.concat([secret, shared]), transcript, `${LABEL} keys`, 64),
      );
      const macKey = okm.subarray(0, 32);
      const proof = createHmac('sha256', macKey).update('join').update(transcript).digest();
      return { proof, encKey: okm.subarray(32) };
    },
  };
}

/** Compares a received proof with an expected one in constant time. */
export function proofMatches(received: Buffer, expected: Buffer): boolean {
  return received.length === expected.length && timingSafeEqual(received, expected);
}

/** Seals the welcome for a joiner that proved the code. */
export function sealWelcome(encKey: Buffer, transcript: Buffer, welcome: Welcome): PairingMessage {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encKey, iv);
  cipher.setAAD(Buffer.concat([Buffer.from('welcome'), transcript]));
  const sealed = Buffer.concat([cipher.update(JSON.stringify(welcome)), cipher.final(), cipher.getAuthTag()]);
  return { type: 'pair-welcome', iv: b64(iv), sealed: b64(sealed) };
}

/** Opens and checks a welcome; throws PairingProtocolError if it was not sealed with this exchange's key. */
export function openWelcome(
  encKey: Buffer,
  transcript: Buffer,
  message: { iv: string; sealed: string },
): Welcome {
  const iv = fromB64(message.iv, 12, 'iv');
  const sealed = fromB64(message.sealed, undefined, 'sealed');
  if (sealed.length < 16) throw new PairingProtocolError('welcome too short');
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', encKey, iv);
    decipher.setAAD(Buffer.concat([Buffer.from('welcome'), transcript]));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
  } catch {
    throw new PairingProtocolError(
      'the welcome did not authenticate: this is not the node that made the code',
    );
  }
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new PairingProtocolError('welcome is not JSON');
  }
  fromB64(value.meshKey, 32, 'meshKey');
  const addresses = value.addresses;
  if (
    typeof value.peerId !== 'string' ||
    value.peerId.length > 128 ||
    typeof value.name !== 'string' ||
    value.name.length > 256 ||
    !Array.isArray(addresses) ||
    addresses.length > MAX_WELCOME_ADDRESSES ||
    !addresses.every((a) => typeof a === 'string' && a.length <= 256)
  )
    throw new PairingProtocolError('welcome has a bad shape');
  return {
    meshKey: value.meshKey as string,
    peerId: value.peerId,
    addresses: addresses as string[],
    name: value.name,
  };
}

/** Ephemeral public key and nonce as a hello or challenge carries them. */
export function offer(own: Ephemeral): { nonce: string; key: string } {
  return { nonce: b64(own.nonce), key: b64(own.publicKey) };
}
