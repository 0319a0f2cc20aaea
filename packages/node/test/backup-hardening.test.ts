import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseSwarmKey } from '@allerac/mesh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { decodeArchive, encodeArchive, sha256Hex } from '../src/backup/archive.js';
import { BackupFormatError, BackupLimitError } from '../src/backup/errors.js';
import { restoreArchive, verifyArchive } from '../src/backup/offline.js';
import { backupBeforeMigrate } from '../src/backup/pre-migrate.js';
import { openArchive } from '../src/backup/snapshot.js';
import { migrate } from '../src/store/migrate.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { openPgliteDatabase } from '../src/store/pglite-database.js';
import { openStore } from '../src/store/store.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

const MiB = 1024 * 1024;

/** An archive with any header and payload and a correct checksum: what anyone can write. */
function forgeArchive(header: Record<string, unknown>, payload: Buffer): Buffer {
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(14);
  prefix.write('ALRCBAK\n', 0, 'ascii');
  prefix.writeUInt16BE(1, 8);
  prefix.writeUInt32BE(headerBytes.length, 10);
  const body = Buffer.concat([prefix, headerBytes, payload]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

const plainHeader = {
  format: 1,
  kind: 'manual',
  createdAt: new Date().toISOString(),
  softwareVersion: '0.1.0',
  schemaVersion: 1,
  encrypted: false,
};

/** The largest resident set the process has had, in bytes. */
const peakRss = () => process.resourceUsage().maxRSS * 1024;

describe('reading an archive someone else wrote', () => {
  it('should refuse a gzip bomb with a valid checksum within its budget', async () => {
    // About 1 MiB that inflates to 1 GiB of zeros.
    const member = gzipSync(Buffer.alloc(64 * MiB), { level: 9 });
    const bomb = forgeArchive(plainHeader, Buffer.concat(Array.from({ length: 16 }, () => member)));
    expect(bomb.length).toBeLessThan(2 * MiB);
    const before = peakRss();
    expect(() => decodeArchive(bomb)).toThrow(BackupLimitError);
    await expect(verifyArchive(bomb)).rejects.toThrow(/decompression bomb/);
    expect(peakRss() - before).toBeLessThan(300 * MiB);
  });

  it('should still read what it writes when the data compresses past the budget', () => {
    const entries = [{ name: 'zeros', data: Buffer.alloc(80 * MiB) }];
    const archive = encodeArchive(
      { kind: 'manual', createdAt: new Date().toISOString(), softwareVersion: '0', schemaVersion: 1 },
      entries,
    );
    const [entry] = decodeArchive(archive).entries;
    expect(entry?.data.length).toBe(80 * MiB);
  });

  it('should refuse scrypt costs outside the allowed set before deriving a key', () => {
    const forged = forgeArchive(
      {
        ...plainHeader,
        encrypted: true,
        kdf: { name: 'scrypt', N: 2 ** 20, r: 8, p: 1, salt: randomBytes(16).toString('base64') },
        cipher: { name: 'aes-256-gcm', iv: randomBytes(12).toString('base64') },
      },
      randomBytes(4096),
    );
    const before = peakRss();
    const started = performance.now();
    expect(() => decodeArchive(forged, 'any passphrase')).toThrow(BackupLimitError);
    expect(() => decodeArchive(forged, 'any passphrase')).toThrow(/N=1048576/);
    expect(performance.now() - started).toBeLessThan(500);
    expect(peakRss() - before).toBeLessThan(100 * MiB);
  });

  it('should refuse a header it does not write', () => {
    for (const header of [
      { ...plainHeader, kind: 'whatever' },
      { ...plainHeader, encrypted: 'yes' },
      { ...plainHeader, encrypted: true, kdf: { name: 'argon2' }, cipher: { name: 'aes-256-gcm', iv: 'x' } },
    ]) {
      expect(() => decodeArchive(forgeArchive(header, gzipSync(Buffer.alloc(0))))).toThrow(BackupFormatError);
    }
  });
});

describe('restoring a cleartext archive', () => {
  const work = mkdtempSync(join(tmpdir(), 'allerac-forged-restore-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** A cleartext archive of an empty schema-1 database carrying `files`. */
  const withFiles = (files: Array<{ name: string; target: string; data: Buffer }>) => {
    const manifest = {
      format: 1,
      createdAt: new Date().toISOString(),
      softwareVersion: '0.1.0',
      schemaVersion: 1,
      encrypted: false,
      tables: [],
      files: files.map((f) => ({
        name: f.name,
        entry: `files/${f.name}`,
        target: f.target,
        bytes: f.data.length,
        sha256: sha256Hex(f.data),
      })),
    };
    return encodeArchive(
      { kind: 'export', createdAt: manifest.createdAt, softwareVersion: '0.1.0', schemaVersion: 1 },
      [
        { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
        ...files.map((f) => ({ name: `files/${f.name}`, data: f.data })),
      ],
    );
  };

  it('should never write the identity or the mesh key from it', async () => {
    const dataDir = join(work, 'node');
    mkdirSync(dataDir, { recursive: true });
    const meshKeyFile = join(dataDir, 'mesh.key');
    writeFileSync(join(dataDir, 'peer-key'), 'my identity');
    writeFileSync(meshKeyFile, 'my mesh key');
    const attacker = Buffer.from(`/key/swarm/psk/1.0.0/\n/base16/\n${'ee'.repeat(32)}`);
    for (const forged of [
      withFiles([{ name: 'peer-key', target: 'data-dir', data: Buffer.from('their identity') }]),
      withFiles([{ name: 'mesh.key', target: 'data-dir', data: attacker }]),
      withFiles([{ name: 'mesh.key', target: 'mesh-key', data: attacker }]),
      withFiles([{ name: 'node.json', target: 'data-dir', data: Buffer.from('{}') }]),
      withFiles([{ name: 'spaces/../peer-key', target: 'data-dir', data: Buffer.from('x') }]),
    ]) {
      expect(() => openArchive(forged)).toThrow(BackupFormatError);
      await expect(restoreArchive(forged, { dataDir, meshKeyFile })).rejects.toThrow(BackupFormatError);
    }
    expect(readFileSync(join(dataDir, 'peer-key'), 'utf8')).toBe('my identity');
    expect(readFileSync(meshKeyFile, 'utf8')).toBe('my mesh key');
    // Refused before anything was touched: no database, no safety archive.
    expect(existsSync(join(dataDir, 'db'))).toBe(false);
  });

  it('should still restore the files a backup takes', () => {
    const opened = openArchive(
      withFiles([
        { name: 'admin-tokens.json', target: 'data-dir', data: Buffer.from('[]') },
        { name: 'spaces/family.bin', target: 'data-dir', data: Buffer.from([1, 2]) },
      ]),
    );
    expect(opened.files.map((f) => f.name)).toEqual(['admin-tokens.json', 'spaces/family.bin']);
  });
});

describe('backup targets of a running node', () => {
  let t: TestNode;
  let token: string;
  const root = mkdtempSync(join(tmpdir(), 'allerac-targets-'));
  const allowed = join(root, 'usb');
  const outside = join(root, 'elsewhere');
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${t.node.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    mkdirSync(allowed);
    mkdirSync(outside);
    symlinkSync(outside, join(allowed, 'escape'));
    t = await startTestNode({ sim: false, backupDirs: [allowed] });
    token = issueAdminToken(t.dataDir, 'test');
  }, 60_000);
  afterAll(async () => {
    await t?.teardown();
    rmSync(root, { recursive: true, force: true });
  });

  it('should write only into <data-dir>/backups and the configured directories', async () => {
    expect((await call('POST', '/allerac/v1/backups', {})).status).toBe(201);
    expect((await call('POST', '/allerac/v1/backups', { dir: allowed })).status).toBe(201);
    for (const body of [
      { dir: outside },
      { dir: join(allowed, '..', 'elsewhere') },
      { dir: join(allowed, 'escape') },
      { dir: '/etc' },
      { file: join(outside, 'x.allerac-backup') },
      { file: join(allowed, 'escape', 'x.allerac-backup') },
    ]) {
      const refused = await call('POST', '/allerac/v1/backups', body);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: string }).error).toMatch(/--backup-dirs/);
    }
    expect(
      (await call('PUT', '/allerac/v1/backups/schedule', { cron: '0 3 * * *', keep: 2, dir: outside }))
        .status,
    ).toBe(403);
    expect((await call('GET', `/allerac/v1/backups?dir=${encodeURIComponent(outside)}`)).status).toBe(403);
    expect(readdirSync(outside)).toEqual([]);
  });
});

describe('the join code', () => {
  let t: TestNode;
  let token: string;

  beforeAll(async () => {
    t = await startTestNode({ sim: false });
    token = issueAdminToken(t.dataDir, 'test');
  }, 60_000);
  afterAll(async () => t?.teardown());

  it('should go to the mesh key file, never into settings or a cleartext backup', async () => {
    const inviter = await startTestNode({ name: 'inviter', sim: false });
    const { code } = await inviter.node.mesh.invite();
    const key = Buffer.from(parseSwarmKey(readFileSync(inviter.node.config.meshKeyFile)));
    const joined = await fetch(`${t.node.url}/allerac/v1/setup/join`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    }).finally(() => inviter.teardown());
    expect(joined.status).toBe(200);
    expect(readFileSync(t.node.config.meshKeyFile, 'utf8')).toContain(key.toString('hex'));
    expect(JSON.stringify(await t.node.store.settings.all())).not.toContain(code);
    const backup = await fetch(`${t.node.url}/allerac/v1/backups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const { file } = (await backup.json()) as { file: string };
    const opened = openArchive(readFileSync(file));
    const everything =
      JSON.stringify(opened.dump) + opened.files.map((f) => Buffer.from(f.data).toString()).join('');
    expect(everything).not.toContain(code);
    expect(everything).not.toContain(key.toString('hex'));
  }, 60_000);

  it('should be moved out of an old database, and kept out of the backup taken before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'allerac-old-join-code-'));
    try {
      const old = await openPgliteDatabase(join(dir, 'db'));
      await migrate(
        old,
        MIGRATIONS.filter((m) => m.version <= 4),
      );
      const code = `ALRC-${randomBytes(32).toString('hex')}`;
      await old.query(
        `INSERT INTO settings (key, value) VALUES ('mesh.joinCode', $1::jsonb), ('ui.language', '"pt"')`,
        [JSON.stringify(code)],
      );
      const file = await backupBeforeMigrate(old, dir);
      await old.close();
      const archived = openArchive(readFileSync(file ?? ''));
      const settings = archived.dump.tables.find((table) => table.name === 'settings')?.jsonl ?? '';
      expect(settings).toContain('ui.language');
      expect(settings).not.toContain(code);
      const store = await openStore({ dataDir: dir });
      try {
        expect(await store.settings.get('mesh.joinCode')).toBeUndefined();
        expect(await store.settings.get('ui.language')).toBe('pt');
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
