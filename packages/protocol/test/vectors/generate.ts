/**
 * Regenerates the golden vectors: `npx tsx packages/protocol/test/vectors/generate.ts`.
 * Only run this when the wire format changes on purpose; the tests compare against the files.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeFrame, signedCardMessage, signKeyRotation } from '../../src/index.js';
import { SAMPLE_MESSAGES, sampleCard, sampleRotation, VECTOR_SEED_HEX, vectorIdentity } from '../fixtures.js';

const { key, peerId } = await vectorIdentity();
const card = await signedCardMessage('card', sampleCard(peerId, 1), key);
const update = await signedCardMessage('card-update', sampleCard(peerId, 2), key);
const rotation = await signKeyRotation(sampleRotation(peerId), key);
const signedKeyMessages = [
  { type: 'key-rotate' as const, ...rotation, newKey: 'a1'.repeat(32) },
  { type: 'key-notice' as const, ...rotation },
  { type: 'key-ack' as const, epoch: 2, current: rotation },
];
const valid = [card, update, ...signedKeyMessages, ...SAMPLE_MESSAGES].map((message, i) => ({
  name: `${message.type}-${i}`,
  hex: Buffer.from(encodeFrame(message)).toString('hex'),
  message,
}));
writeFileSync(
  join(import.meta.dirname, 'valid.json'),
  `${JSON.stringify({ seedHex: VECTOR_SEED_HEX, peerId, vectors: valid }, null, 2)}\n`,
);

/** A frame with its unsigned-varint length prefix (one byte below 128). */
const frame = (payload: string) => {
  const bytes = Buffer.from(payload, 'utf8');
  const prefix: number[] = [];
  for (let n = bytes.length; ; n >>>= 7) {
    if (n < 0x80) {
      prefix.push(n);
      break;
    }
    prefix.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from(prefix), bytes]).toString('hex');
};
const invalid = [
  { name: 'oversize-prefix', hex: 'ffffffff07', error: 'MalformedFrameError' },
  { name: 'too-large-for-card', hex: '818004', error: 'FrameTooLargeError', maxFrameBytes: 65536 },
  { name: 'truncated', hex: '0a7b2274797065', error: 'TruncatedFrameError' },
  { name: 'empty-frame', hex: '00', error: 'MalformedFrameError' },
  { name: 'not-json', hex: frame('hello'), error: 'MalformedFrameError' },
  { name: 'not-object', hex: frame('[1,2]'), error: 'MalformedFrameError' },
  { name: 'bad-utf8', hex: '02c328', error: 'MalformedFrameError' },
  { name: 'unknown-type', hex: frame('{"type":"gossip"}'), error: 'ValidationError' },
  { name: 'wrong-field-type', hex: frame('{"type":"key-ack","epoch":"2"}'), error: 'ValidationError' },
  { name: 'missing-field', hex: frame('{"type":"infer-cancel"}'), error: 'ValidationError' },
  { name: 'bad-enum', hex: frame('{"type":"infer-error","id":"x","code":"nope","message":"","retryable":false}'), error: 'ValidationError' },
  { name: 'status-not-an-error', hex: frame('{"type":"infer-error","id":"x","code":"internal","message":"","retryable":true,"status":200}'), error: 'ValidationError' },
  { name: 'unknown-infer-api', hex: frame('{"type":"infer-request","id":"x","api":"pull","model":"m","body":{},"deadlineMs":1}'), error: 'ValidationError' },
  { name: 'credit-past-window', hex: frame('{"type":"infer-credit","id":"x","chunks":33}'), error: 'ValidationError' },
  { name: 'credit-of-nothing', hex: frame('{"type":"infer-credit","id":"x","chunks":0}'), error: 'ValidationError' },
  // Names that would leave the models directory never validate (protocol.md, "Models protocol").
  { name: 'models-dotdot-namespace', hex: frame('{"type":"models-get","kind":"manifest","namespace":"..","model":"m","tag":"t"}'), error: 'ValidationError' },
  { name: 'models-slash-in-model', hex: frame('{"type":"models-get","kind":"manifest","namespace":"n","model":"a/b","tag":"t"}'), error: 'ValidationError' },
  { name: 'models-path-digest', hex: frame('{"type":"models-get","kind":"blob","digest":"sha256:../../etc/passwd"}'), error: 'ValidationError' },
  { name: 'models-range-too-long', hex: frame('{"type":"models-get","kind":"blob","length":1000000001}'), error: 'ValidationError' },
  // A bulk-lane ticket is exactly a port, a 32-hex identity, a 32-byte base64 key and a length.
  { name: 'models-lane-short-identity', hex: frame('{"type":"models-reply","status":206,"size":10,"length":0,"lane":{"port":4000,"identity":"abc","key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","length":10}}'), error: 'ValidationError' },
  { name: 'models-lane-port-zero', hex: frame('{"type":"models-reply","status":206,"size":10,"length":0,"lane":{"port":0,"identity":"00112233445566778899aabbccddeeff","key":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","length":10}}'), error: 'ValidationError' },
  { name: 'non-minimal-varint', hex: `8000${frame('{}').slice(2)}`, error: 'MalformedFrameError' },
];
writeFileSync(join(import.meta.dirname, 'invalid.json'), `${JSON.stringify({ vectors: invalid }, null, 2)}\n`);
console.log(`wrote ${valid.length} valid and ${invalid.length} invalid vectors`);
