/**
 * Join codes carry the mesh key in a typeable form: `ALRC-` then the 32-byte key and a CRC-32 of
 * it, in Crockford base32 (no I, L, O, U; case-insensitive), in groups of five.
 */
import { crc32 } from 'node:zlib';
import { MESH_KEY_BYTES } from './mesh-key.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const PREFIX = 'ALRC';

/** A join code that cannot be used, with the reason. */
export class JoinCodeError extends Error {
  override name = 'JoinCodeError';
}

function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new JoinCodeError(`"${ch}" is not a join-code character`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  return Uint8Array.from(out);
}

/** Makes the join code for a raw 32-byte mesh key. */
export function createJoinCode(key: Uint8Array): string {
  if (key.length !== MESH_KEY_BYTES) throw new JoinCodeError(`a mesh key has ${MESH_KEY_BYTES} bytes`);
  const crc = crc32(key) >>> 0;
  const payload = new Uint8Array(MESH_KEY_BYTES + 4);
  payload.set(key, 0);
  new DataView(payload.buffer).setUint32(MESH_KEY_BYTES, crc);
  const groups = base32(payload).match(/.{1,5}/g) ?? [];
  return [PREFIX, ...groups].join('-');
}

/** Reads a join code back into the raw mesh key; throws JoinCodeError with a clear reason. */
export function parseJoinCode(code: string): Uint8Array {
  const compact = code.trim().toUpperCase().replace(/[\s-]/g, '');
  if (!compact.startsWith(PREFIX)) throw new JoinCodeError(`a join code starts with ${PREFIX}-`);
  // Only the body is base32 (no O, I or L); typed look-alikes there are read as the digits they resemble.
  const body = compact.slice(PREFIX.length).replace(/O/g, '0').replace(/[IL]/g, '1');
  const expected = Math.ceil(((MESH_KEY_BYTES + 4) * 8) / 5);
  if (body.length !== expected) {
    throw new JoinCodeError(
      `a join code has ${expected} characters after ${PREFIX}-, this one has ${body.length}`,
    );
  }
  const payload = unbase32(body);
  const key = payload.subarray(0, MESH_KEY_BYTES);
  const crc = new DataView(payload.buffer, payload.byteOffset).getUint32(MESH_KEY_BYTES);
  if (crc32(key) >>> 0 !== crc) throw new JoinCodeError('join code checksum mismatch: check for a typo');
  return Uint8Array.from(key);
}
