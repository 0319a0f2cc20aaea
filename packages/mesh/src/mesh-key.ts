/**
 * The mesh key: a libp2p pnet pre-shared key in the swarm-key file format
 * (`/key/swarm/psk/1.0.0/\n/base16/\n<64 hex digits>`), stored with mode 0600.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Length of the raw pre-shared key. */
export const MESH_KEY_BYTES = 32;

/** The mesh-key file is not in swarm-key format. */
export class MeshKeyFormatError extends Error {
  override name = 'MeshKeyFormatError';
}

/** Formats a raw 32-byte key as a swarm-key file. */
export function formatSwarmKey(raw: Uint8Array): Uint8Array {
  if (raw.length !== MESH_KEY_BYTES) throw new MeshKeyFormatError(`a mesh key has ${MESH_KEY_BYTES} bytes`);
  return new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${Buffer.from(raw).toString('hex')}\n`);
}

/** Extracts the raw 32-byte key from a swarm-key file. */
export function parseSwarmKey(file: Uint8Array | string): Uint8Array {
  const text = typeof file === 'string' ? file : new TextDecoder().decode(file);
  const lines = text.split(/\r\n|\r|\n/);
  if (
    lines[0] !== '/key/swarm/psk/1.0.0/' ||
    lines[1] !== '/base16/' ||
    !/^[0-9a-fA-F]{64}$/.test(lines[2] ?? '')
  ) {
    throw new MeshKeyFormatError('expected /key/swarm/psk/1.0.0/, /base16/ and 64 hex digits');
  }
  return Uint8Array.from(Buffer.from(lines[2] as string, 'hex'));
}

/** Generates a new random raw key. */
export function generateMeshKey(): Uint8Array {
  return Uint8Array.from(randomBytes(MESH_KEY_BYTES));
}

/** Writes a raw key as a swarm-key file, atomically and with mode 0600. */
export async function writeMeshKey(file: string, raw: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, formatSwarmKey(raw), { mode: 0o600 });
  await rename(tmp, file);
  await chmod(file, 0o600);
}

/** Reads the mesh key from `file` (raw 32 bytes), creating it with a new key when missing. */
export async function loadOrCreateMeshKey(file: string): Promise<Uint8Array> {
  try {
    return parseSwarmKey(await readFile(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const raw = generateMeshKey();
  await writeMeshKey(file, raw);
  return raw;
}
