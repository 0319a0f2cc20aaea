import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { fixPskCipherMemory } from '../src/psk-cipher.js';

type Cipher = { update(input: Uint8Array): Uint8Array };
const xsalsa20 = createRequire(import.meta.resolve('@libp2p/pnet'))('xsalsa20') as (
  nonce: Uint8Array,
  key: Uint8Array,
) => Cipher;

describe('the pre-shared key cipher', () => {
  it('survives two directions that alternate growing updates, and keeps its keystream', () => {
    fixPskCipherMemory();
    const key = new Uint8Array(32).fill(7);
    const nonce = new Uint8Array(24).fill(1);
    const out = xsalsa20(nonce, key);
    const back = xsalsa20(new Uint8Array(24).fill(2), key);
    const plains: Uint8Array[] = [];
    const sealed: Uint8Array[] = [];
    // Unfixed, this throws "Maximum memory size exceeded" within ~20 rounds (< 64 MiB of traffic).
    for (let round = 0; round < 60; round++) {
      const plain = new Uint8Array((1 << 20) + round * 4099).fill(round & 0xff);
      const bytes = out.update(plain);
      back.update(new Uint8Array((2 << 20) + round));
      if (round < 8) {
        plains.push(plain);
        sealed.push(Buffer.from(bytes));
      }
    }
    // One update of the same stream, on memory that no longer grows, is the reference keystream.
    const reference = xsalsa20(nonce, key).update(Buffer.concat(plains));
    expect(Buffer.from(reference).equals(Buffer.concat(sealed))).toBe(true);
  });
});
