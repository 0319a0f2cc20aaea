/** Fixtures of the wake tests: two peers' cards and the mesh's presence as an in-memory fake. */
import type { NodeCard } from '@allerac/protocol';
import type { PeerPresence } from '../../src/wake/sleeping-peers.js';

export const GAMING = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA';
export const MINI = '12D3KooWHFrmLWTTDD4NodngSAzxDK1kStP9yCrVYCeAnYUT8Yd9';

/** A card as a peer sends it: a model loaded, busy, part of its memory in use. */
export function card(peerId: string, fields: Partial<NodeCard> = {}): NodeCard {
  return {
    name: peerId === GAMING ? 'gaming-pc' : 'mini',
    peerId,
    softwareVersion: '0.1.0',
    protocolVersion: '1.0.0',
    hardware: {
      cpuModel: 'AMD Ryzen 7 5800X',
      cores: 16,
      ramTotal: 32e9,
      ramFree: 12e9,
      gpus: [{ model: 'RTX 3060', vramTotal: 12e9, vramFree: 3e9 }],
      diskFree: 500e9,
    },
    backend: { state: 'up' },
    models: [
      {
        name: 'llama3.1:8b',
        sizeBytes: 4.9e9,
        family: 'llama',
        parameterSize: '8.0B',
        quantization: 'Q4_K_M',
        loaded: true,
        contextLength: 4096,
        expiresAt: 1767225900000,
      },
    ],
    load: { activeTasks: 1, queueDepth: 2, slots: 2, tokensPerSecond: { 'llama3.1:8b': 61.5 } },
    specializations: [],
    macs: ['aa:bb:cc:dd:ee:01'],
    wakeOnLan: true,
    preferredWhenOn: true,
    issuedAt: 1767225600000,
    seq: 1,
    ...fields,
  };
}

/** The mesh's presence as an in-memory fake: who is online, and card events fired by the test. */
export class FakePresence implements PeerPresence {
  readonly online = new Set<string>();
  private readonly listeners = new Set<(event: 'join' | 'update', card: NodeCard) => void>();
  onlineIds(): Set<string> {
    return new Set(this.online);
  }
  onCard(listener: (event: 'join' | 'update', card: NodeCard) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: 'join' | 'update', c: NodeCard): void {
    if (event === 'join') this.online.add(c.peerId);
    for (const listener of [...this.listeners]) listener(event, c);
  }
  listenerCount(): number {
    return this.listeners.size;
  }
}
