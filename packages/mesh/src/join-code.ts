/**
 * Join codes are invitations, not keys: `ALRC-` then 30 Crockford base32 characters (no I, L, O,
 * U; case-insensitive) in groups of five, holding 150 bits: a format version (2 bits), the
 * inviting node's IPv4 address (32) and pairing port (16), the invitation's 80-bit secret and a
 * 20-bit checksum (the first bits of SHA-256 over the rest). The mesh key itself travels only over
 * the pairing exchange (pairing-protocol.ts), encrypted under a key derived from the secret.
 *
 * Codes of the first format (58 characters: the permanent mesh key and a CRC-32) are refused with
 * LegacyJoinCodeError: they gave away the key for good to whoever saw them.
 */
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { MeshInputError } from './errors.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const PREFIX = 'ALRC';
/** Characters after the prefix. */
const BODY_CHARS = 30;
/** Characters after the prefix in the retired format (32-byte key and CRC-32). */
const LEGACY_BODY_CHARS = 58;
const VERSION = 0n;
/** Bytes of an invitation's secret: 80 bits, beyond offline search even by an on-path attacker. */
export const INVITATION_SECRET_BYTES = 10;
const CHECKSUM_BITS = 20n;

/** A join code that cannot be used, with the reason (a typo, a wrong length, a retired format). */
export class JoinCodeError extends MeshInputError {
  override name = 'JoinCodeError';
  constructor(message: string) {
    super(message, { code: 'invalid_join_code', param: 'code' });
  }
}

/** A code of the retired format, which was the permanent mesh key itself. */
export class LegacyJoinCodeError extends JoinCodeError {
  override name = 'LegacyJoinCodeError';
  constructor() {
    super(
      'this is an old-style join code, which is no longer accepted because it carried the home’s permanent key; ask for a fresh code (Invite a machine on the Agents page, or `allerac pair` on a node of the home)',
    );
  }
}

/** What an invitation code carries. */
export interface InvitationCode {
  /** IPv4 address of the inviting node's pairing port. */
  host: string;
  /** Its pairing port. */
  port: number;
  /** The invitation's secret (INVITATION_SECRET_BYTES). */
  secret: Uint8Array;
}

function checksum(data: bigint): bigint {
  // The 130 data bits, left-aligned in 17 bytes.
  const bytes = Buffer.from((data << 6n).toString(16).padStart(34, '0'), 'hex');
  const digest = createHash('sha256').update(bytes).digest();
  return BigInt(`0x${digest.subarray(0, 3).toString('hex')}`) >> (24n - CHECKSUM_BITS);
}

/** Formats an invitation as a code to read out, type or scan. */
export function formatInvitationCode(invitation: InvitationCode): string {
  const { host, port, secret } = invitation;
  if (!isIPv4(host)) throw new JoinCodeError(`an invitation needs an IPv4 address, got "${host}"`);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new JoinCodeError(`bad port ${port}`);
  if (secret.length !== INVITATION_SECRET_BYTES)
    throw new JoinCodeError(`an invitation secret has ${INVITATION_SECRET_BYTES} bytes`);
  let data = VERSION;
  for (const octet of host.split('.')) data = (data << 8n) | BigInt(Number(octet));
  data = (data << 16n) | BigInt(port);
  data = (data << 80n) | BigInt(`0x${Buffer.from(secret).toString('hex')}`);
  let value = (data << CHECKSUM_BITS) | checksum(data);
  let body = '';
  for (let i = 0; i < BODY_CHARS; i++) {
    body = ALPHABET[Number(value & 31n)] + body;
    value >>= 5n;
  }
  return [PREFIX, ...(body.match(/.{5}/g) ?? [])].join('-');
}

/** Reads a code back; throws JoinCodeError (or LegacyJoinCodeError) with a reason a person can act on. */
export function parseInvitationCode(code: string): InvitationCode {
  const compact = code.trim().toUpperCase().replace(/[\s-]/g, '');
  if (!compact.startsWith(PREFIX)) throw new JoinCodeError(`a join code starts with ${PREFIX}-`);
  // Only the body is base32 (no O, I or L); typed look-alikes there are read as the digits they resemble.
  const body = compact.slice(PREFIX.length).replace(/O/g, '0').replace(/[IL]/g, '1');
  if (body.length === LEGACY_BODY_CHARS) throw new LegacyJoinCodeError();
  if (body.length !== BODY_CHARS) {
    throw new JoinCodeError(
      `a join code has ${BODY_CHARS} characters after ${PREFIX}-, this one has ${body.length}`,
    );
  }
  let value = 0n;
  for (const ch of body) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new JoinCodeError(`"${ch}" is not a join-code character`);
    value = (value << 5n) | BigInt(v);
  }
  const data = value >> CHECKSUM_BITS;
  if (checksum(data) !== (value & ((1n << CHECKSUM_BITS) - 1n)))
    throw new JoinCodeError('join code checksum mismatch: check for a typo');
  if (data >> 128n !== VERSION) throw new JoinCodeError('this join code is from a newer version of Allerac');
  const secret = Buffer.from((data & ((1n << 80n) - 1n)).toString(16).padStart(20, '0'), 'hex');
  const port = Number((data >> 80n) & 0xffffn);
  const ip = Number((data >> 96n) & 0xffffffffn);
  const host = [24, 16, 8, 0].map((shift) => (ip >>> shift) & 0xff).join('.');
  if (port === 0) throw new JoinCodeError('join code names no port');
  return { host, port, secret: Uint8Array.from(secret) };
}
