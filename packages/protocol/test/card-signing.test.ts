import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import {
  BadSignatureError,
  canonicalJson,
  PROTOCOL_VERSION,
  signedCardMessage,
  UnsupportedVersionError,
  verifyCardMessage,
} from '../src/index.js';
import { sampleCard } from './fixtures.js';

describe('canonical JSON', () => {
  it('should sort keys at every level and drop whitespace', () => {
    expect(canonicalJson({ b: 1, a: [{ d: true, c: null }], é: 'x' })).toBe(
      '{"a":[{"c":null,"d":true}],"b":1,"é":"x"}',
    );
  });
});

describe('card signing', () => {
  it('should verify a card signed by the sender', async () => {
    const key = await generateKeyPair('Ed25519');
    const peerId = peerIdFromPrivateKey(key).toString();
    const message = await signedCardMessage('card', sampleCard(peerId), key);
    await expect(verifyCardMessage(message, peerId, PROTOCOL_VERSION)).resolves.toEqual(message.card);
  });

  it('should verify regardless of key order and with unknown fields', async () => {
    const key = await generateKeyPair('Ed25519');
    const peerId = peerIdFromPrivateKey(key).toString();
    const card = { ...sampleCard(peerId), futureField: { z: 1, a: 2 } };
    const message = await signedCardMessage('card', card, key);
    const reordered = JSON.parse(
      JSON.stringify({ ...message, card: Object.fromEntries(Object.entries(message.card).reverse()) }),
    );
    await expect(verifyCardMessage(reordered, peerId, PROTOCOL_VERSION)).resolves.toBeDefined();
  });

  it('should reject a tampered card', async () => {
    const key = await generateKeyPair('Ed25519');
    const peerId = peerIdFromPrivateKey(key).toString();
    const message = await signedCardMessage('card', sampleCard(peerId), key);
    message.card.load.activeTasks = 0;
    message.card.hardware.ramFree += 1;
    await expect(verifyCardMessage(message, peerId, PROTOCOL_VERSION)).rejects.toThrow(BadSignatureError);
  });

  it('should reject a card that names another peer than the connection', async () => {
    const key = await generateKeyPair('Ed25519');
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
    const message = await signedCardMessage('card', sampleCard(peerIdFromPrivateKey(key).toString()), key);
    await expect(verifyCardMessage(message, other, PROTOCOL_VERSION)).rejects.toThrow(BadSignatureError);
  });

  it('should reject a card signed by a key other than its peer id', async () => {
    const key = await generateKeyPair('Ed25519');
    const impostor = await generateKeyPair('Ed25519');
    const peerId = peerIdFromPrivateKey(key).toString();
    const message = await signedCardMessage('card', sampleCard(peerId), impostor);
    await expect(verifyCardMessage(message, peerId, PROTOCOL_VERSION)).rejects.toThrow(BadSignatureError);
  });

  it('should reject another major protocol version', async () => {
    const key = await generateKeyPair('Ed25519');
    const peerId = peerIdFromPrivateKey(key).toString();
    const message = await signedCardMessage('card', { ...sampleCard(peerId), protocolVersion: '2.0.0' }, key);
    await expect(verifyCardMessage(message, peerId, PROTOCOL_VERSION)).rejects.toThrow(
      UnsupportedVersionError,
    );
  });
});
