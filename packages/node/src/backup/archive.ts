/**
 * The archive container (docs/backup-format.md): magic, format version, a cleartext JSON header,
 * the payload (gzip of the entries, AES-256-GCM-encrypted when a passphrase is given) and a
 * SHA-256 trailer over everything before it.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ALLOWED_SCRYPT_PARAMS,
  BACKUP_FORMAT_VERSION,
  BACKUP_MAGIC,
  IV_BYTES,
  MAX_COMPRESSION_RATIO,
  MAX_UNPACKED_BYTES,
  SALT_BYTES,
  SCRYPT_PARAMS,
  TRAILER_BYTES,
  UNPACK_FLOOR_BYTES,
} from './constants.js';
import { BackupCorruptError, BackupFormatError, BackupLimitError, BackupPassphraseError } from './errors.js';

/** Why an archive was made; shown by `list`, and retention only prunes its own kind. */
export type BackupKind = 'manual' | 'scheduled' | 'pre-migrate' | 'pre-restore' | 'export';

/** The cleartext header: readable without the passphrase, so `list` can describe any archive. */
export interface ArchiveHeader {
  format: number;
  kind: BackupKind;
  createdAt: string;
  softwareVersion: string;
  /** The database schema version the data was taken at. */
  schemaVersion: number;
  encrypted: boolean;
  kdf?: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher?: { name: 'aes-256-gcm'; iv: string };
}

/** One named blob inside the archive. */
export interface ArchiveEntry {
  name: string;
  data: Uint8Array;
}

const MAGIC = Buffer.from(BACKUP_MAGIC, 'ascii');
const PREFIX_BYTES = MAGIC.length + 2 + 4;
const GCM_TAG_BYTES = 16;

/** SHA-256 as lowercase hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

const KINDS: readonly BackupKind[] = ['manual', 'scheduled', 'pre-migrate', 'pre-restore', 'export'];

/** The most bytes an archive of this compressed size may unpack to (see MAX_COMPRESSION_RATIO). */
export function unpackBudget(compressedBytes: number): number {
  return Math.min(MAX_UNPACKED_BYTES, Math.max(UNPACK_FLOOR_BYTES, compressedBytes * MAX_COMPRESSION_RATIO));
}

const MiB = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MiB`;

function deriveKey(passphrase: string, kdf: NonNullable<ArchiveHeader['kdf']>): Buffer {
  if (
    !ALLOWED_SCRYPT_PARAMS.some(
      (allowed) => allowed.N === kdf.N && allowed.r === kdf.r && allowed.p === kdf.p,
    )
  ) {
    throw new BackupLimitError(
      `the archive asks for scrypt with N=${kdf.N}, r=${kdf.r}, p=${kdf.p}, a cost this allerac does not accept; ` +
        'the header is damaged or was not written by allerac',
    );
  }
  const salt = Buffer.from(kdf.salt, 'base64');
  if (salt.length !== SALT_BYTES)
    throw new BackupFormatError(`the archive's salt is not ${SALT_BYTES} bytes`);
  return scryptSync(passphrase.normalize('NFC'), salt, SCRYPT_PARAMS.keyBytes, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 256 * kdf.N * kdf.r,
  });
}

/** Entries as one buffer: per entry a u32 name length, the UTF-8 name, a u32 data length, the data. */
function packEntries(entries: readonly ArchiveEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const head = Buffer.alloc(4);
    head.writeUInt32BE(name.length);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(entry.data.length);
    parts.push(head, name, size, Buffer.from(entry.data));
  }
  return Buffer.concat(parts);
}

function unpackEntries(body: Buffer): ArchiveEntry[] {
  const entries: ArchiveEntry[] = [];
  let at = 0;
  const need = (n: number) => {
    if (at + n > body.length) throw new BackupCorruptError('the archive body ends in the middle of an entry');
  };
  while (at < body.length) {
    need(4);
    const nameLength = body.readUInt32BE(at);
    at += 4;
    need(nameLength + 4);
    const name = body.subarray(at, at + nameLength).toString('utf8');
    at += nameLength;
    const size = body.readUInt32BE(at);
    at += 4;
    need(size);
    entries.push({ name, data: body.subarray(at, at + size) });
    at += size;
  }
  return entries;
}

/** Builds an archive; with a passphrase the payload is encrypted and the header authenticated. */
export function encodeArchive(
  header: Omit<ArchiveHeader, 'format' | 'encrypted' | 'kdf' | 'cipher'>,
  entries: readonly ArchiveEntry[],
  passphrase?: string,
): Buffer {
  const full: ArchiveHeader = {
    format: BACKUP_FORMAT_VERSION,
    ...header,
    encrypted: passphrase !== undefined,
  };
  let key: Buffer | undefined;
  let iv: Buffer | undefined;
  if (passphrase !== undefined) {
    if (passphrase === '') throw new BackupPassphraseError('the passphrase is empty');
    const salt = randomBytes(16);
    full.kdf = {
      name: 'scrypt',
      N: SCRYPT_PARAMS.N,
      r: SCRYPT_PARAMS.r,
      p: SCRYPT_PARAMS.p,
      salt: salt.toString('base64'),
    };
    iv = randomBytes(12);
    full.cipher = { name: 'aes-256-gcm', iv: iv.toString('base64') };
    key = deriveKey(passphrase, full.kdf);
  }
  const headerBytes = Buffer.from(JSON.stringify(full), 'utf8');
  const packed = packEntries(entries);
  if (packed.length > MAX_UNPACKED_BYTES)
    throw new BackupLimitError(
      `the data (${MiB(packed.length)}) is more than one archive may hold (${MiB(MAX_UNPACKED_BYTES)})`,
    );
  let compressed = gzipSync(packed);
  // Data that compresses past the readers' budget is stored instead, so every archive written is readable.
  if (packed.length > unpackBudget(compressed.length)) compressed = gzipSync(packed, { level: 0 });
  let payload: Buffer = compressed;
  if (key !== undefined && iv !== undefined) {
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(headerBytes);
    payload = Buffer.concat([cipher.update(compressed), cipher.final(), cipher.getAuthTag()]);
  }
  const prefix = Buffer.alloc(PREFIX_BYTES);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt16BE(BACKUP_FORMAT_VERSION, MAGIC.length);
  prefix.writeUInt32BE(headerBytes.length, MAGIC.length + 2);
  const body = Buffer.concat([prefix, headerBytes, payload]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** Reads and checks the cleartext header and the whole-archive checksum; returns the header. */
export function readArchiveHeader(archive: Uint8Array): {
  header: ArchiveHeader;
  headerBytes: Buffer;
  payload: Buffer;
} {
  const bytes = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  if (bytes.length < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new BackupFormatError('this is not an Allerac backup archive (the magic bytes are missing)');
  }
  if (bytes.length < PREFIX_BYTES + TRAILER_BYTES) {
    throw new BackupCorruptError('the archive is truncated: it is shorter than its fixed header');
  }
  const format = bytes.readUInt16BE(MAGIC.length);
  if (format !== BACKUP_FORMAT_VERSION) {
    throw new BackupFormatError(
      `the archive has format version ${format}; this allerac reads version ${BACKUP_FORMAT_VERSION}`,
    );
  }
  const body = bytes.subarray(0, bytes.length - TRAILER_BYTES);
  const trailer = bytes.subarray(bytes.length - TRAILER_BYTES);
  if (!createHash('sha256').update(body).digest().equals(trailer)) {
    throw new BackupCorruptError(
      'the archive is corrupted: its SHA-256 checksum does not match (a changed byte, or a truncated copy); use another copy',
    );
  }
  const headerLength = bytes.readUInt32BE(MAGIC.length + 2);
  if (PREFIX_BYTES + headerLength > body.length)
    throw new BackupCorruptError('the archive header is truncated');
  const headerBytes = body.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength);
  let parsed: unknown;
  try {
    parsed = JSON.parse(headerBytes.toString('utf8'));
  } catch {
    throw new BackupCorruptError('the archive header is not valid JSON');
  }
  return { header: validateHeader(parsed), headerBytes, payload: body.subarray(PREFIX_BYTES + headerLength) };
}

/** The header as this format defines it; anything else is refused before it steers the reader. */
function validateHeader(value: unknown): ArchiveHeader {
  const bad = (what: string): never => {
    throw new BackupFormatError(`the archive header is not one allerac writes: ${what}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('not an object');
  const header = value as Record<string, unknown>;
  if (header.format !== BACKUP_FORMAT_VERSION) bad(`format ${String(header.format)}`);
  if (!KINDS.includes(header.kind as BackupKind)) bad('unknown kind');
  if (typeof header.createdAt !== 'string' || typeof header.softwareVersion !== 'string')
    bad('missing dates');
  if (!Number.isInteger(header.schemaVersion) || (header.schemaVersion as number) < 0) bad('schema version');
  if (typeof header.encrypted !== 'boolean') bad('"encrypted" is not true or false');
  if (header.encrypted) {
    const kdf = header.kdf as Record<string, unknown> | undefined;
    const cipher = header.cipher as Record<string, unknown> | undefined;
    if (
      typeof kdf !== 'object' ||
      kdf === null ||
      kdf.name !== 'scrypt' ||
      !Number.isInteger(kdf.N) ||
      !Number.isInteger(kdf.r) ||
      !Number.isInteger(kdf.p) ||
      typeof kdf.salt !== 'string'
    )
      bad('unknown key derivation');
    if (
      typeof cipher !== 'object' ||
      cipher === null ||
      cipher.name !== 'aes-256-gcm' ||
      typeof cipher.iv !== 'string'
    )
      bad('unknown cipher');
  }
  return header as unknown as ArchiveHeader;
}

/** Checks, decrypts and unpacks an archive. */
export function decodeArchive(
  archive: Uint8Array,
  passphrase?: string,
): { header: ArchiveHeader; entries: ArchiveEntry[] } {
  const { header, headerBytes, payload } = readArchiveHeader(archive);
  let compressed = payload;
  if (header.encrypted) {
    if (passphrase === undefined || passphrase === '') {
      throw new BackupPassphraseError(
        'the archive is encrypted: give its passphrase (--passphrase-file FILE or ALLERAC_BACKUP_PASSPHRASE)',
      );
    }
    if (header.kdf === undefined || header.cipher === undefined) {
      throw new BackupFormatError('the archive uses an unknown key derivation or cipher');
    }
    if (payload.length < GCM_TAG_BYTES) throw new BackupCorruptError('the encrypted payload is truncated');
    const iv = Buffer.from(header.cipher.iv, 'base64');
    if (iv.length !== IV_BYTES) throw new BackupFormatError(`the archive's IV is not ${IV_BYTES} bytes`);
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(passphrase, header.kdf), iv);
    decipher.setAAD(headerBytes);
    decipher.setAuthTag(payload.subarray(payload.length - GCM_TAG_BYTES));
    try {
      compressed = Buffer.concat([
        decipher.update(payload.subarray(0, payload.length - GCM_TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      // The outer checksum already matched, so the bytes are as written: the key is wrong.
      throw new BackupPassphraseError('wrong passphrase: the archive cannot be decrypted with it');
    }
  }
  let body: Buffer;
  const budget = unpackBudget(compressed.length);
  try {
    // Stops inflating at the budget: a small gzip bomb must not take the machine's memory first.
    body = gunzipSync(compressed, { maxOutputLength: budget });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new BackupLimitError(
        `the archive unpacks to more than ${MiB(budget)} (${MAX_COMPRESSION_RATIO} times its size, or the limit): ` +
          'refused, as a decompression bomb or a damaged file',
      );
    }
    throw new BackupCorruptError('the archive payload does not decompress');
  }
  return { header, entries: unpackEntries(body) };
}
