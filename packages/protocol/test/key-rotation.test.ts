import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import {
  BadSignatureError,
  cardSigningBytes,
  keyRotationDigest,
  keyRotationSigningBytes,
  meshKeyId,
  signKeyRotation,
  validateMessage,
  verifyKeyRotation,
} from '../src/index.js';
import { sampleCard, sampleRotation } from './fixtures.js';

const identity = async () => {
  const key = await generateKeyPair('Ed25519');
  return { key, peerId: peerIdFromPrivateKey(key).toString() };
};

describe('key rotation signing', () => {
  it('should verify a rotation signed by its issuer, whatever the key order', async () => {
    const { key, peerId } = await identity();
    const signed = await signKeyRotation(sampleRotation(peerId), key);
    const reordered = JSON.parse(
      JSON.stringify({ ...signed, rotation: Object.fromEntries(Object.entries(signed.rotation).reverse()) }),
    );
    await expect(verifyKeyRotation(reordered)).resolves.toEqual(signed.rotation);
  });

  it('should reject a rotation whose fields were changed after signing', async () => {
    const { key, peerId } = await identity();
    const signed = await signKeyRotation(sampleRotation(peerId), key);
    for (const change of [{ epoch: 3 }, { blocked: [] }, { issuedAt: 1 }, { keyId: 'c3'.repeat(32) }]) {
      await expect(
        verifyKeyRotation({ ...signed, rotation: { ...signed.rotation, ...change } }),
      ).rejects.toThrow(BadSignatureError);
    }
  });

  it('should reject a rotation signed by another key than its issuer’s', async () => {
    const { peerId } = await identity();
    const impostor = await identity();
    const signed = await signKeyRotation(sampleRotation(peerId), impostor.key);
    await expect(verifyKeyRotation(signed)).rejects.toThrow(BadSignatureError);
  });

  it('should never take a card signature for a rotation signature', async () => {
    const { peerId } = await identity();
    const rotation = new TextDecoder().decode(keyRotationSigningBytes(sampleRotation(peerId)));
    const card = new TextDecoder().decode(cardSigningBytes(sampleCard(peerId)));
    expect(rotation.startsWith('allerac/key-rotation/1\n')).toBe(true);
    expect(card.startsWith('{')).toBe(true);
  });

  it('should name a key by an id that is stable, distinct per key and not the key', () => {
    const a = Buffer.from('a0'.repeat(32), 'hex');
    const b = Buffer.from('a1'.repeat(32), 'hex');
    expect(meshKeyId(a)).toBe(meshKeyId(Uint8Array.from(a)));
    expect(meshKeyId(a)).not.toBe(meshKeyId(b));
    expect(meshKeyId(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(meshKeyId(a)).not.toContain('a0a0');
  });

  it('should give one digest per record', async () => {
    const { peerId } = await identity();
    const r = sampleRotation(peerId);
    expect(keyRotationDigest(r)).toBe(keyRotationDigest({ ...r }));
    expect(keyRotationDigest(r)).not.toBe(keyRotationDigest({ ...r, epoch: r.epoch + 1 }));
  });

  it('should bound the blocklist of a rotation on the wire', async () => {
    const { key, peerId } = await identity();
    const signed = await signKeyRotation(
      { ...sampleRotation(peerId), blocked: Array(257).fill(peerId) },
      key,
    );
    expect(() => validateMessage({ type: 'key-notice', ...signed })).toThrow(/at most 256/);
  });
});
