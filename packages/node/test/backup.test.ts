import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedText, startOllamaSim } from '@allerac/ollama-sim';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_FILE, hashToken, issueAdminToken } from '../src/auth/api-tokens.js';
import { decodeArchive, encodeArchive } from '../src/backup/archive.js';
import { listArchives } from '../src/backup/backup-files.js';
import {
  BackupCorruptError,
  BackupFormatError,
  BackupPassphraseError,
  NodeRunningError,
} from '../src/backup/errors.js';
import { restoreArchive, verifyArchive } from '../src/backup/offline.js';
import { backupBeforeMigrate } from '../src/backup/pre-migrate.js';
import { openArchive } from '../src/backup/snapshot.js';
import { loadDatabase } from '../src/backup/table-dump.js';
import { resolveStartConfig } from '../src/config.js';
import { startNode } from '../src/daemon.js';
import { migrate, schemaVersion } from '../src/store/migrate.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { openPgliteDatabase } from '../src/store/pglite-database.js';
import { createStore, openStore } from '../src/store/store.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

/** A node with an ollama-sim on an existing data dir (the restored one). */
async function startNodeAt(dataDir: string, name: string) {
  const sim = await startOllamaSim({ profile: 'fast', models: [MODEL, EMBED] });
  const config = resolveStartConfig(
    {
      name,
      dataDir,
      httpPort: '0',
      httpHost: '127.0.0.1',
      p2pPort: '0',
      ollamaUrl: sim.url,
      logLevel: 'silent',
    },
    {},
  );
  const node = await startNode(config, { logger: pino({ level: 'silent' }) });
  return {
    node,
    async teardown() {
      await node.close(1_000);
      await sim.close();
    },
  };
}

const MODEL = 'llama3.2:3b';
const EMBED = 'all-minilm:latest';
const PASSPHRASE = 'correct horse battery staple';

describe('backup archive container', () => {
  const entries = [
    { name: 'a.txt', data: Buffer.from('hello') },
    { name: 'b.bin', data: Buffer.from([0, 1, 2, 255]) },
  ];
  const header = {
    kind: 'manual' as const,
    createdAt: new Date().toISOString(),
    softwareVersion: '0.0.0',
    schemaVersion: 1,
  };

  it('should round-trip entries in the clear and encrypted', () => {
    for (const passphrase of [undefined, PASSPHRASE]) {
      const archive = encodeArchive(header, entries, passphrase);
      const decoded = decodeArchive(archive, passphrase);
      expect(decoded.header.encrypted).toBe(passphrase !== undefined);
      expect(decoded.entries.map((e) => [e.name, Buffer.from(e.data).toString('hex')])).toEqual(
        entries.map((e) => [e.name, e.data.toString('hex')]),
      );
    }
  });

  it('should refuse a wrong or missing passphrase with a clear error', () => {
    const archive = encodeArchive(header, entries, PASSPHRASE);
    expect(() => decodeArchive(archive, 'wrong')).toThrow(BackupPassphraseError);
    expect(() => decodeArchive(archive, 'wrong')).toThrow(/wrong passphrase/);
    expect(() => decodeArchive(archive)).toThrow(/encrypted: give its passphrase/);
  });

  it('should refuse a flipped byte anywhere, a truncated copy and a foreign file', () => {
    for (const passphrase of [undefined, PASSPHRASE]) {
      const archive = encodeArchive(header, entries, passphrase);
      for (const at of [12, 20, Math.floor(archive.length / 2), archive.length - 40, archive.length - 1]) {
        const damaged = Buffer.from(archive);
        damaged[at] = (damaged[at] as number) ^ 0x01;
        expect(() => decodeArchive(damaged, passphrase)).toThrow(BackupCorruptError);
      }
      expect(() => decodeArchive(archive.subarray(0, archive.length - 7), passphrase)).toThrow(
        /corrupted|truncated/,
      );
      expect(() => decodeArchive(archive.subarray(0, 10), passphrase)).toThrow(BackupCorruptError);
    }
    expect(() => decodeArchive(Buffer.from('PK\u0003\u0004 not ours at all, a zip file'))).toThrow(
      BackupFormatError,
    );
  });
});

describe('backup and restore of a whole node', () => {
  let alice: TestNode;
  let adminToken: string;
  const work = mkdtempSync(join(tmpdir(), 'allerac-backup-test-'));
  let plainFile = '';
  let encryptedFile = '';
  const headers = () => ({ authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' });

  beforeAll(async () => {
    alice = await startTestNode({
      name: 'alice',
      sim: { profile: 'fast', models: [MODEL, EMBED] },
      backupDirs: [work],
    });
    adminToken = issueAdminToken(alice.dataDir, 'test');
    const { store } = alice.node;
    await store.settings.set('ui.language', 'pt');
    await store.settings.set('backup.test.nested', { a: [1, 2, { b: 'c' }] });
    await store.tokens.insert({
      id: 'tok-1',
      name: 'laptop',
      hash: hashToken('alr_laptop-secret'),
      role: 'member',
    });
    const chat = await fetch(`${alice.node.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: 'user', content: 'Where are the spare keys?' }],
        stream: false,
      }),
    });
    expect(chat.status).toBe(200);
    await waitFor(
      async () => (await store.conversations.counts()).messages >= 2,
      10_000,
      'the chat to be recorded',
    );
    for (const [id, text] of [
      ['m1', 'The spare keys are in the blue drawer'],
      ['m2', "Grandma's birthday is on 3 May"],
    ] as const) {
      await store.memories.upsert({
        id,
        text,
        tags: ['home', "it's"],
        authorNode: 'alice',
        embedding: { model: EMBED, vector: embedText(text, 384) },
      });
    }
    await store.db.query(
      "INSERT INTO users (id, username, password_hash, role) VALUES ('u1', 'ana', 'scrypt$x', 'admin')",
    );
    await store.db.query(
      `INSERT INTO memory_spaces (name, epoch, policy, doc) VALUES ('family', 2, '{"peers":["bob"]}', '\\x00ff10'::bytea)`,
    );
    writeFileSync(alice.node.config.meshKeyFile, `/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(32)}\n`);
  }, 60_000);

  afterAll(async () => {
    await alice?.teardown();
    rmSync(work, { recursive: true, force: true });
  });

  it('should take plain and encrypted backups through the management API', async () => {
    const plain = await fetch(`${alice.node.url}/allerac/v1/backups`, {
      method: 'POST',
      headers: headers(),
      body: '{}',
    });
    expect(plain.status).toBe(201);
    const plainInfo = (await plain.json()) as { file: string; encrypted: boolean; schemaVersion: number };
    expect(plainInfo.encrypted).toBe(false);
    expect(plainInfo.schemaVersion).toBe(await schemaVersion(alice.node.store.db));
    plainFile = plainInfo.file;

    const encrypted = await fetch(`${alice.node.url}/allerac/v1/backups`, {
      method: 'POST',
      headers: headers(),
      body: JSON.stringify({ passphrase: PASSPHRASE, dir: work }),
    });
    expect(encrypted.status).toBe(201);
    encryptedFile = ((await encrypted.json()) as { file: string }).file;
    expect(encryptedFile.startsWith(work)).toBe(true);

    const status = (await (
      await fetch(`${alice.node.url}/allerac/v1/backups/status`, { headers: headers() })
    ).json()) as { last: { file: string; location: string; bytes: number } };
    expect(status.last.file).toBe(encryptedFile);
    expect(status.last.location).toBe(work);
    expect(status.last.bytes).toBeGreaterThan(100);
    const list = (await (
      await fetch(`${alice.node.url}/allerac/v1/backups`, { headers: headers() })
    ).json()) as {
      backups: Array<{ file: string }>;
    };
    expect(list.backups.map((b) => b.file)).toContain(plainFile);
  });

  it('should keep vectors out and the mesh key only in the encrypted archive', () => {
    const plain = openArchive(readFileSync(plainFile));
    const memories = plain.manifest.tables.find((t) => t.name === 'memories');
    expect(memories?.excluded).toContain('embedding');
    expect(memories?.columns).not.toContain('embedding');
    expect(plain.dump.tables.find((t) => t.name === 'memories')?.jsonl).not.toContain('embedding"');
    expect(plain.manifest.tables.map((t) => t.name)).not.toContain('schema_migrations');
    expect(plain.manifest.tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'settings',
        'api_tokens',
        'conversations',
        'messages',
        'memories',
        'users',
        'memory_spaces',
      ]),
    );
    expect(plain.files.map((f) => f.name)).toEqual([ADMIN_TOKEN_FILE]);
    const encrypted = openArchive(readFileSync(encryptedFile), PASSPHRASE);
    expect(encrypted.files.map((f) => f.target)).toContain('mesh-key');
  });

  it('should verify both archives by restoring into a scratch store', async () => {
    const plain = await verifyArchive(readFileSync(plainFile));
    expect(plain.tables.every((t) => t.ok)).toBe(true);
    expect(plain.tables.find((t) => t.name === 'messages')?.rows).toBeGreaterThanOrEqual(2);
    const encrypted = await verifyArchive(readFileSync(encryptedFile), PASSPHRASE);
    expect(encrypted.encrypted).toBe(true);
    await expect(verifyArchive(readFileSync(encryptedFile), 'not it')).rejects.toThrow(BackupPassphraseError);
    const damaged = readFileSync(plainFile);
    const middle = Math.floor(damaged.length / 2);
    damaged.writeUInt8((damaged.at(middle) ?? 0) ^ 0x40, middle);
    await expect(verifyArchive(damaged)).rejects.toThrow(/corrupted/);
  }, 60_000);

  it('should refuse to restore into the data dir of a running node', async () => {
    await expect(
      restoreArchive(readFileSync(plainFile), {
        dataDir: alice.dataDir,
        meshKeyFile: alice.node.config.meshKeyFile,
      }),
    ).rejects.toThrow(NodeRunningError);
  });

  it('should bring everything back on a fresh node, memories re-embedded', async () => {
    const freshDir = join(work, 'fresh-data');
    mkdirSync(freshDir);
    const report = await restoreArchive(
      readFileSync(encryptedFile),
      {
        dataDir: freshDir,
        meshKeyFile: join(freshDir, 'mesh.key'),
      },
      { passphrase: PASSPHRASE },
    );
    expect(report.safetyBackup).toBeUndefined();
    expect(report.rows.memories).toBe(2);
    expect(readFileSync(join(freshDir, 'mesh.key'), 'utf8')).toContain('ab'.repeat(32));

    const bob = await startNodeAt(freshDir, 'bob');
    try {
      const { store } = bob.node;
      expect(await store.settings.get('ui.language')).toBe('pt');
      expect(await store.settings.get('backup.test.nested')).toEqual({ a: [1, 2, { b: 'c' }] });
      expect((await store.tokens.list()).map((t) => t.name)).toContain('laptop');
      expect(await store.tokens.useByHash(hashToken('alr_laptop-secret'))).toMatchObject({ role: 'member' });
      // alice's admin token (from the restored token file) works on the restored node
      const node = await fetch(`${bob.node.url}/allerac/v1/node`, { headers: headers() });
      expect(node.status).toBe(200);
      const before = await alice.node.store.conversations.list();
      const after = await store.conversations.list();
      expect(after.map((c) => [c.id, c.messageCount])).toEqual(before.map((c) => [c.id, c.messageCount]));
      const messages = await store.conversations.messages(after[0]?.id ?? '');
      expect(messages.map((m) => m.content)).toEqual(
        (await alice.node.store.conversations.messages(before[0]?.id ?? '')).map((m) => m.content),
      );
      expect((await store.memories.get('m1'))?.tags).toEqual(['home', "it's"]);
      const [space] = await store.db.query<{ doc: Uint8Array; epoch: number }>(
        "SELECT doc, epoch FROM memory_spaces WHERE name = 'family'",
      );
      expect(Buffer.from(space?.doc ?? []).toString('hex')).toBe('00ff10');
      expect((await store.db.query("SELECT username FROM users WHERE id = 'u1'"))[0]).toEqual({
        username: 'ana',
      });
      // new messages continue after the restored ids
      const id = await store.conversations.append(after[0]?.id ?? '', { role: 'user', content: 'again' });
      expect(id).toBeGreaterThan(Math.max(...messages.map((m) => m.id)));
      await waitFor(
        async () => (await store.db.query('SELECT 1 FROM memories WHERE embedding IS NULL')).length === 0,
        30_000,
        'memories to be re-embedded',
      );
      const [hit] = await store.memories.nearest(embedText('The spare keys are in the blue drawer', 384), 1);
      expect(hit?.id).toBe('m1');
    } finally {
      await bob.teardown();
    }
  }, 90_000);

  it('should save the replaced data before restoring over an existing node', async () => {
    const dir = join(work, 'existing-data');
    const store = await openStore({ dataDir: dir });
    await store.settings.set('only.here', true);
    await store.close();
    const report = await restoreArchive(readFileSync(plainFile), {
      dataDir: dir,
      meshKeyFile: join(dir, 'mesh.key'),
    });
    expect(report.safetyBackup).toBeDefined();
    expect(existsSync(report.safetyBackup ?? '')).toBe(true);
    const again = await openStore({ dataDir: dir });
    try {
      expect(await again.settings.get('only.here')).toBeUndefined();
      expect(await again.settings.get('ui.language')).toBe('pt');
    } finally {
      await again.close();
    }
    const saved = openArchive(readFileSync(report.safetyBackup ?? ''));
    expect(saved.dump.tables.find((t) => t.name === 'settings')?.jsonl).toContain('only.here');
  }, 60_000);
});

describe('schema versions', () => {
  it('should restore an archive from an older schema and migrate it forward', async () => {
    const old = await openPgliteDatabase(undefined);
    await migrate(
      old,
      MIGRATIONS.filter((m) => m.version === 1),
    );
    await old.query(`INSERT INTO settings (key, value) VALUES ('k', '"v"')`);
    await old.query(
      `INSERT INTO memories (id, text, author_node, embedding_model) VALUES ('x', 'old text', 'alice', 'm')`,
    );
    const dir = mkdtempSync(join(tmpdir(), 'allerac-old-schema-'));
    try {
      const file = await backupBeforeMigrate(old, dir);
      expect(file).toMatch(/pre-migrate-\d+-\d{8}T\d{6}\.\d{3}Z\.allerac-backup$/);
      await old.close();
      const opened = openArchive(readFileSync(file ?? ''));
      expect(opened.manifest.schemaVersion).toBe(1);
      const target = await openPgliteDatabase(undefined);
      const report = await loadDatabase(target, opened.dump);
      expect(report.migratedTo).toBe(Math.max(...MIGRATIONS.map((m) => m.version)));
      const store = await createStore(target);
      expect(await store.settings.get('k')).toBe('v');
      expect((await store.memories.get('x'))?.text).toBe('old text');
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('should take a pre-migration backup only when migrations are pending', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'allerac-premigrate-'));
    try {
      const store = await openStore({ dataDir: dir });
      expect(await backupBeforeMigrate(store.db, dir)).toBeUndefined();
      const file = await backupBeforeMigrate(store.db, dir, [...MIGRATIONS, { version: 999 }]);
      expect(file).toContain('pre-migrate-999-');
      expect(listArchives(join(dir, 'backups')).map((b) => b.kind)).toEqual(['pre-migrate']);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
