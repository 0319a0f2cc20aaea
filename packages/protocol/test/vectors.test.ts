import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  isCardMessage,
  isCardUpdateMessage,
  type Message,
  PROTOCOL_VERSION,
  verifyCardMessage,
  verifyKeyRotation,
} from '../src/index.js';

interface Valid {
  peerId: string;
  vectors: { name: string; hex: string; message: Message }[];
}
interface Invalid {
  vectors: { name: string; hex: string; error: string; maxFrameBytes?: number }[];
}
const load = <T>(file: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', file), 'utf8')) as T;
const valid = load<Valid>('valid.json');
const invalid = load<Invalid>('invalid.json');

describe('golden vectors', () => {
  it.each(valid.vectors.map((v) => [v.name, v] as const))('should decode and encode %s', (_name, v) => {
    const bytes = Buffer.from(v.hex, 'hex');
    expect(decodeFrame(bytes)).toEqual(v.message);
    expect(Buffer.from(encodeFrame(v.message)).toString('hex')).toBe(v.hex);
  });

  it('should verify the signed card vectors against their peer id', async () => {
    const signed = valid.vectors
      .map((v) => v.message)
      .filter((m) => isCardMessage(m) || isCardUpdateMessage(m));
    expect(signed.length).toBe(2);
    for (const m of signed)
      await expect(verifyCardMessage(m, valid.peerId, PROTOCOL_VERSION)).resolves.toBeDefined();
  });

  it('should verify the signed rotation vectors against their issuer', async () => {
    const signed = valid.vectors
      .map((v) => v.message)
      .flatMap((m) =>
        m.type === 'key-rotate' || m.type === 'key-notice'
          ? [m]
          : m.type === 'key-ack' && m.current
            ? [m.current]
            : [],
      );
    expect(signed.length).toBe(3);
    for (const s of signed)
      await expect(verifyKeyRotation(s)).resolves.toMatchObject({ issuer: valid.peerId });
  });

  it.each(invalid.vectors.map((v) => [v.name, v] as const))(
    'should reject %s with its typed error',
    (_n, v) => {
      const bytes = Buffer.from(v.hex, 'hex');
      expect(() =>
        decodeFrame(bytes, v.maxFrameBytes !== undefined ? { maxFrameBytes: v.maxFrameBytes } : {}),
      ).toThrow(expect.objectContaining({ name: v.error }));
    },
  );
});
