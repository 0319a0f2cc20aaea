/** Shared fixtures for the protocol tests: a deterministic identity and sample messages. */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { type KeyRotation, type Message, meshKeyId, type NodeCard } from '../src/index.js';

/** Seed of the deterministic Ed25519 identity used by the golden vectors. */
export const VECTOR_SEED_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

/** The deterministic identity of the golden vectors. */
export async function vectorIdentity() {
  const key = await generateKeyPairFromSeed('Ed25519', Buffer.from(VECTOR_SEED_HEX, 'hex'));
  return { key, peerId: peerIdFromPrivateKey(key).toString() };
}

/** A realistic card for `peerId`. */
export function sampleCard(peerId: string, seq = 1): NodeCard {
  return {
    name: 'office',
    peerId,
    softwareVersion: '0.1.0',
    protocolVersion: '1.0.0',
    hardware: {
      cpuModel: 'AMD Ryzen 7 5800X',
      cores: 16,
      ramTotal: 34359738368,
      ramFree: 20000000000,
      swapTotal: 2147483648,
      swapFree: 2147483648,
      gpus: [{ model: 'NVIDIA GeForce RTX 3060', vramTotal: 12884901888, vramFree: 10000000000 }],
      diskFree: 500000000000,
    },
    backend: { state: 'up', url: 'http://127.0.0.1:11434', version: '0.12.0' },
    models: [
      {
        name: 'llama3.1:8b',
        sizeBytes: 4920753328,
        family: 'llama',
        parameterSize: '8.0B',
        quantization: 'Q4_K_M',
        loaded: true,
        contextLength: 4096,
        expiresAt: 1767225900000,
        capabilities: ['completion', 'tools'],
      },
    ],
    load: { activeTasks: 1, queueDepth: 0, slots: 2, tokensPerSecond: { 'llama3.1:8b': 61.5 } },
    specializations: ['code'],
    issuedAt: 1767225600000,
    seq,
  };
}

/** The blocklist of the sample rotation: one removed peer. */
export const SAMPLE_BLOCKED = ['12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'];

/** A rotation by `issuer` from epoch 1 to 2, replacing key `a0…` by key `a1…`. */
export function sampleRotation(issuer: string): KeyRotation {
  return {
    issuer,
    epoch: 2,
    keyId: meshKeyId(Buffer.from('a1'.repeat(32), 'hex')),
    previousKeyId: meshKeyId(Buffer.from('a0'.repeat(32), 'hex')),
    blocked: SAMPLE_BLOCKED,
    issuedAt: 1767225600000,
  };
}

/** One valid example of every message type except the signed ones (cards and rotations). */
export const SAMPLE_MESSAGES: Message[] = [
  { type: 'heartbeat', seq: 7, sentAt: 1767225600000 },
  { type: 'leave', reason: 'shutdown' },
  { type: 'leave' },
  // Signed key messages (key-rotate, key-notice, key-ack with current) are made in vectors/generate.ts.
  { type: 'key-check', epoch: 2, digest: 'b2'.repeat(32) },
  { type: 'key-state' },
  { type: 'key-ack', epoch: 2, holds: 'b2'.repeat(32) },
  { type: 'key-ack', epoch: 1, refused: 'epoch' },
  {
    type: 'infer-request',
    id: 'req-1',
    api: 'chat',
    model: 'llama3.1:8b',
    body: { model: 'llama3.1:8b', messages: [{ role: 'user', content: 'Hi' }], stream: true },
    deadlineMs: 120000,
    failovers: 0,
  },
  {
    type: 'infer-chunk',
    id: 'req-1',
    chunk: {
      model: 'llama3.1:8b',
      created_at: '2026-01-01T00:00:00Z',
      message: { role: 'assistant', content: 'Hel' },
      done: false,
    },
  },
  {
    type: 'infer-done',
    id: 'req-1',
    stats: { totalDurationNs: 1500000000, evalCount: 12, evalDurationNs: 200000000 },
  },
  { type: 'infer-error', id: 'req-1', code: 'busy', message: 'all 2 slots in use', retryable: true },
  {
    type: 'infer-error',
    id: 'req-2',
    code: 'bad-request',
    message: '"all-minilm:latest" does not support chat',
    retryable: false,
    status: 400,
  },
  {
    type: 'infer-request',
    id: 'req-3',
    api: 'show',
    model: 'gemma3:4b',
    body: { model: 'gemma3:4b' },
    deadlineMs: 5000,
  },
  { type: 'infer-request', id: 'req-4', api: 'ps', model: '*', body: {}, deadlineMs: 5000 },
  { type: 'infer-cancel', id: 'req-1' },
  { type: 'sync-hello', spaces: ['household', 'recipes'] },
  { type: 'sync-message', space: 'household', data: 'QgAAAQ==' },
  { type: 'sync-refused', space: 'recipes', reason: 'not-allowed' },
  { type: 'model-request', id: 'm1', action: 'pull', body: { model: 'gemma3:4b' } },
  {
    type: 'model-progress',
    id: 'm1',
    progress: {
      status: 'pulling aeda25e63ebd',
      digest: 'sha256:aeda25e63ebd',
      total: 3338801804,
      completed: 1024,
    },
  },
  { type: 'model-done', id: 'm1' },
  { type: 'model-error', id: 'm1', status: 500, message: 'pull model manifest: file does not exist' },
  // INFER_CHANNEL_PROTOCOL (version 2): credit, and the end of an answer without stats.
  { type: 'infer-credit', id: 'req-1', chunks: 16 },
  { type: 'infer-done', id: 'req-1' },
  // MODELS_PROTOCOL: a manifest, a blob range, and their replies.
  {
    type: 'models-get',
    kind: 'manifest',
    host: 'registry.ollama.ai',
    namespace: 'library',
    model: 'llama3.2',
    tag: '3b',
  },
  {
    type: 'models-get',
    kind: 'blob',
    digest: 'sha256:abababababababababababababababababababababababababababababababab',
    offset: 100000000,
    length: 100000000,
  },
  {
    type: 'models-get',
    kind: 'blob',
    digest: 'sha256:abababababababababababababababababababababababababababababababab',
    head: true,
  },
  { type: 'models-reply', status: 206, size: 2019393189, length: 100000000 },
  { type: 'models-reply', status: 404, size: 0, length: 0, error: 'manifest unknown' },
  // The bulk lane: a range asked for over it, and the one-time ticket that answers (no bytes follow).
  {
    type: 'models-get',
    kind: 'blob',
    digest: 'sha256:abababababababababababababababababababababababababababababababab',
    offset: 0,
    length: 100000000,
    lane: true,
  },
  {
    type: 'models-reply',
    status: 206,
    size: 2019393189,
    length: 0,
    lane: {
      port: 40123,
      identity: '00112233445566778899aabbccddeeff',
      key: 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=',
      length: 100000000,
    },
  },
];
