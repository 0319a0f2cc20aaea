/**
 * Key rotations signed with the issuer's libp2p Ed25519 identity, as cards are (card-signing.ts),
 * and the ids that name mesh keys without revealing them.
 */
import { createHash } from 'node:crypto';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { canonicalJson } from './canonical-json.js';
import { BadSignatureError } from './errors.js';
import type { KeyRotation, SignedKeyRotation } from './messages.js';

const encoder = new TextEncoder();
/** Domain separation: a rotation signature can never be taken for a card signature or vice versa. */
const ROTATION_DOMAIN = 'allerac/key-rotation/1\n';
const KEY_ID_DOMAIN = 'allerac/mesh-key-id/1\n';

/** The id of a raw 32-byte mesh key: 64 hex digits of SHA-256 over a domain tag and the key. */
export function meshKeyId(key: Uint8Array): string {
  return createHash('sha256').update(KEY_ID_DOMAIN).update(key).digest('hex');
}

/** The bytes a rotation signature covers: a domain tag, then the record's canonical JSON. */
export function keyRotationSigningBytes(rotation: KeyRotation): Uint8Array {
  return encoder.encode(ROTATION_DOMAIN + canonicalJson(rotation));
}

/** Identifies one rotation record: 64 hex digits of SHA-256 over its signing bytes. */
export function keyRotationDigest(rotation: KeyRotation): string {
  return createHash('sha256').update(keyRotationSigningBytes(rotation)).digest('hex');
}

/** Signs a rotation with the issuer's identity key, which must be `rotation.issuer`'s. */
export async function signKeyRotation(
  rotation: KeyRotation,
  privateKey: PrivateKey,
): Promise<SignedKeyRotation> {
  const signature = await privateKey.sign(keyRotationSigningBytes(rotation));
  return { rotation, signature: Buffer.from(signature).toString('base64') };
}

/**
 * Verifies a signed rotation against the public key inside `rotation.issuer`; returns the record.
 * Throws BadSignatureError. Whether the receiver adopts it is `checkKeyRotation`'s business.
 */
export async function verifyKeyRotation(signed: SignedKeyRotation): Promise<KeyRotation> {
  const { rotation } = signed;
  let ok = false;
  try {
    const publicKey = peerIdFromString(rotation.issuer).publicKey;
    if (publicKey === undefined) throw new BadSignatureError('issuer id carries no public key');
    const signature = Uint8Array.from(Buffer.from(signed.signature, 'base64'));
    ok = await publicKey.verify(keyRotationSigningBytes(rotation), signature);
  } catch (err) {
    if (err instanceof BadSignatureError) throw err;
    throw new BadSignatureError(`rotation signature check failed: ${(err as Error).message}`);
  }
  if (!ok) throw new BadSignatureError('rotation signature does not verify against its issuer');
  return rotation;
}
