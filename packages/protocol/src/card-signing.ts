/** Signing and verifying NodeCards with the node's libp2p Ed25519 identity key. */
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { canonicalJson } from './canonical-json.js';
import { BadSignatureError, UnsupportedVersionError } from './errors.js';
import type { CardMessage, CardUpdateMessage, NodeCard } from './messages.js';

const encoder = new TextEncoder();

/** The bytes a card signature covers: the UTF-8 canonical JSON of the card object as sent. */
export function cardSigningBytes(card: NodeCard): Uint8Array {
  return encoder.encode(canonicalJson(card));
}

/** Signs a card and returns the base64 signature. */
export async function signCard(card: NodeCard, privateKey: PrivateKey): Promise<string> {
  const signature = await privateKey.sign(cardSigningBytes(card));
  return Buffer.from(signature).toString('base64');
}

/** Builds a signed `card` or `card-update` message. */
export async function signedCardMessage(
  type: 'card' | 'card-update',
  card: NodeCard,
  privateKey: PrivateKey,
): Promise<CardMessage | CardUpdateMessage> {
  return { type, card, signature: await signCard(card, privateKey) };
}

/**
 * Verifies a received card message: the card must name `remotePeerId` (the connection's remote
 * peer), its protocol major version must match `protocolVersion`'s, and the signature must verify
 * against the public key inside the peer id. Throws BadSignatureError or UnsupportedVersionError.
 */
export async function verifyCardMessage(
  message: CardMessage | CardUpdateMessage,
  remotePeerId: string,
  protocolVersion: string,
): Promise<NodeCard> {
  const { card } = message;
  if (card.peerId !== remotePeerId) {
    throw new BadSignatureError(`card names peer ${card.peerId.slice(0, 64)} but came from ${remotePeerId}`);
  }
  if (card.protocolVersion.split('.')[0] !== protocolVersion.split('.')[0]) {
    throw new UnsupportedVersionError(
      `card protocol version ${card.protocolVersion.slice(0, 32)} is not supported`,
    );
  }
  let ok = false;
  try {
    const publicKey = peerIdFromString(remotePeerId).publicKey;
    if (publicKey === undefined) throw new BadSignatureError('peer id carries no public key');
    const signature = Uint8Array.from(Buffer.from(message.signature, 'base64'));
    ok = await publicKey.verify(cardSigningBytes(card), signature);
  } catch (err) {
    if (err instanceof BadSignatureError) throw err;
    throw new BadSignatureError(`signature check failed: ${(err as Error).message}`);
  }
  if (!ok) throw new BadSignatureError('card signature does not verify');
  return card;
}
