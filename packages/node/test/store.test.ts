import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, schemaVersion } from '../src/store/migrate.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { openPgliteDatabase } from '../src/store/pglite-database.js';
import { openPostgresDatabase, redactDatabaseUrl } from '../src/store/postgres-database.js';
import { SettingsRepository } from '../src/store/settings-repository.js';
import { StoreUnavailableError } from '../src/store/sql.js';
import { createStore, type Store } from '../src/store/store.js';
import { isDurableStoreError, StoreHealthTracker } from '../src/store/store-health.js';

interface Setup {
  store: Store;
  teardown: () => Promise<void>;
}

/** Embedded PGlite in a temporary data dir, as a node without DATABASE_URL runs. */
async function pgliteSetup(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'allerac-store-'));
  const store = await createStore(await openPgliteDatabase(join(dir, 'db')));
  return {
    store,
    teardown: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The `pg` driver over the real wire protocol, against PGlite served by pglite-socket. */
async function postgresSetup(): Promise<Setup> {
  const db = await PGlite.create({ extensions: { vector } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 10 });
  await server.start();
  const { port } = (server as unknown as { server: { address(): { port: number } } }).server.address();
  const store = await createStore(
    await openPostgresDatabase(`postgres://postgres:secret@127.0.0.1:${port}/postgres`, 1),
  );
  return {
    store,
    teardown: async () => {
      await store.close();
      await server.stop();
      await db.close();
    },
  };
}

const unitVector = (dims: number, hot: number[]): number[] => {
  const v = new Array<number>(dims).fill(0);
  for (const i of hot) v[i] = 1 / Math.sqrt(hot.length);
  return v;
};

describe.each([
  ['pglite', pgliteSetup],
  ['postgres (pg driver over pglite-socket)', postgresSetup],
])('store: %s', (_name, setup) => {
  let ctx: Setup;
  beforeAll(async () => {
    ctx = await setup();
  });
  afterAll(async () => {
    await ctx?.teardown();
  });

  it('should record every migration and be safe to migrate twice', async () => {
    expect(await schemaVersion(ctx.store.db)).toBe(MIGRATIONS.at(-1)!.version);
    expect(await migrate(ctx.store.db)).toEqual([]);
  });

  it('should store and replace settings as JSON', async () => {
    await ctx.store.settings.set('agent', { name: 'kitchen', specializations: ['home'] });
    await ctx.store.settings.set('agent', { name: 'office', specializations: [] });
    expect(await ctx.store.settings.get('agent')).toEqual({ name: 'office', specializations: [] });
    expect(await ctx.store.settings.get('missing')).toBeUndefined();
  });

  it('should answer repeated settings reads without a database round trip, and see every write', async () => {
    const statements: string[] = [];
    const counted = new SettingsRepository({
      query: (text, params) => {
        statements.push(text);
        return ctx.store.db.query(text, params);
      },
      exec: (text) => ctx.store.db.exec(text),
      transaction: (fn) => ctx.store.db.transaction(fn),
    });
    await counted.set('cached.k', { n: 1 });
    for (let i = 0; i < 5; i++) expect(await counted.get('cached.k')).toEqual({ n: 1 });
    expect(await counted.get('cached.absent')).toBeUndefined();
    expect(await counted.get('cached.absent')).toBeUndefined();
    // A caller mutating what it read changes nothing stored.
    ((await counted.get<{ n: number }>('cached.k')) as { n: number }).n = 99;
    await counted.set('cached.k', { n: 2 });
    expect(await counted.get('cached.k')).toEqual({ n: 2 });
    expect(await ctx.store.settings.get('cached.k')).toEqual({ n: 2 });
    // Two writes and one read of the absent key; every other read came from memory.
    expect(statements.length).toBe(3);
  });

  it('should look tokens up by hash and stop accepting revoked ones', async () => {
    await ctx.store.tokens.insert({ id: 't1', name: 'cli', hash: 'h1', role: 'admin' });
    expect((await ctx.store.tokens.useByHash('h1'))?.id).toBe('t1');
    expect(await ctx.store.tokens.useByHash('nope')).toBeUndefined();
    expect(await ctx.store.tokens.revoke('t1')).toBe(true);
    expect(await ctx.store.tokens.revoke('t1')).toBe(false);
    expect(await ctx.store.tokens.useByHash('h1')).toBeUndefined();
  });

  it('should not accept an expired token, and list its expiry', async () => {
    const past = new Date(Date.now() - 1000);
    await ctx.store.tokens.insert({
      id: 't-old',
      name: 'old',
      hash: 'h-old',
      role: 'member',
      expiresAt: past,
    });
    expect(await ctx.store.tokens.useByHash('h-old')).toBeUndefined();
    expect((await ctx.store.tokens.list()).find((t) => t.id === 't-old')?.expiresAt?.getTime()).toBe(
      past.getTime(),
    );
  });

  it('should stay healthy after a bad statement, and run statements in a transaction apart', async () => {
    await expect(ctx.store.db.query('SELEKT 1')).rejects.toThrow();
    await ctx.store.settings.set('unique.k', 1);
    await expect(
      ctx.store.db.query("INSERT INTO settings (key, value) VALUES ('unique.k', '1')"),
    ).rejects.toThrow();
    expect(ctx.store.db.health().state).toBe('ok');
    // A statement issued while a transaction runs must not land inside it.
    let outside: Promise<unknown> | undefined;
    await expect(
      ctx.store.db.transaction(async (tx) => {
        await tx.query("INSERT INTO settings (key, value) VALUES ('tx.rolled-back', '1')");
        outside = ctx.store.settings.set('tx.outside', true);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    await outside;
    expect(await ctx.store.settings.get('tx.rolled-back')).toBeUndefined();
    expect(await ctx.store.settings.get('tx.outside')).toBe(true);
  });

  it('should keep conversations and their messages in order', async () => {
    await ctx.store.conversations.create({ id: 'c1', title: 'hello', source: 'api' }, [
      { role: 'user', content: 'hi' },
    ]);
    await ctx.store.conversations.append('c1', {
      role: 'assistant',
      content: 'hello!',
      model: 'm',
      node: 'n',
    });
    const messages = await ctx.store.conversations.messages('c1');
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'hi'],
      ['assistant', 'hello!'],
    ]);
    expect((await ctx.store.conversations.list())[0]).toMatchObject({ id: 'c1', messageCount: 2 });
    expect(await ctx.store.conversations.counts()).toEqual({ conversations: 1, messages: 2 });
  });

  it('should store a retried question once, in place of the empty failed answer', async () => {
    await ctx.store.conversations.create({ id: 'c-retry', title: 'q', source: 'ui' }, [
      { role: 'user', content: 'when?' },
    ]);
    await ctx.store.conversations.append('c-retry', { role: 'assistant', content: '', status: 'failed' });
    await ctx.store.conversations.appendQuestion('c-retry', { role: 'user', content: 'when?' });
    expect((await ctx.store.conversations.messages('c-retry')).map((m) => m.role)).toEqual(['user']);
    // A failed answer with text, or another question, is history: both stay.
    await ctx.store.conversations.append('c-retry', { role: 'assistant', content: 'half', status: 'failed' });
    await ctx.store.conversations.appendQuestion('c-retry', { role: 'user', content: 'when?' });
    await ctx.store.conversations.append('c-retry', { role: 'assistant', content: '', status: 'failed' });
    await ctx.store.conversations.appendQuestion('c-retry', { role: 'user', content: 'why?' });
    expect((await ctx.store.conversations.messages('c-retry')).map((m) => `${m.role}:${m.content}`)).toEqual([
      'user:when?',
      'assistant:half',
      'user:when?',
      'assistant:',
      'user:why?',
    ]);
  });

  it('should roll a failed transaction back completely', async () => {
    await expect(
      ctx.store.conversations.create({ id: 'c2', title: 't', source: 'api' }, [
        { role: 'user', content: 'ok' },
        { role: null as unknown as string, content: 'violates NOT NULL' },
      ]),
    ).rejects.toThrow();
    expect(await ctx.store.conversations.messages('c2')).toEqual([]);
    expect((await ctx.store.conversations.list()).map((c) => c.id)).not.toContain('c2');
  });

  it('should have an HNSW index on the memories vector column', async () => {
    const rows = await ctx.store.db.query<{ indexdef: string }>(
      "SELECT indexdef FROM pg_indexes WHERE tablename = 'memories' AND indexdef ILIKE '%hnsw%'",
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]!.indexdef).toContain('vector_cosine_ops');
  });

  it('should find the nearest memories by cosine similarity', async () => {
    const mem = ctx.store.memories;
    await mem.upsert({
      id: 'a',
      text: 'dishwasher filter',
      authorNode: 'n',
      embedding: { model: 'e', vector: unitVector(384, [1, 2]) },
    });
    await mem.upsert({
      id: 'b',
      text: 'garden hose',
      authorNode: 'n',
      embedding: { model: 'e', vector: unitVector(384, [7, 8]) },
    });
    await mem.upsert({ id: 'c', text: 'no vector yet', authorNode: 'n' });
    const hits = await mem.nearest(unitVector(384, [1, 2, 3]), 2);
    expect(hits.map((h) => h.id)).toEqual(['a', 'b']);
    expect(hits[0]!.score).toBeGreaterThan(0.8);
    expect(hits[1]!.score).toBeCloseTo(0, 5);
    expect(await mem.count()).toBe(3);
  });

  it('should store vector components as pgvector reads them: negative, tiny and exponent forms', async () => {
    // Six dimensions, so no other test's nearest() sees this row.
    const components = [-0.5, 1e-7, -3.4e38, 0.1, 12345.678, 2.5e-45];
    await ctx.store.memories.upsert({
      id: 'v-forms',
      text: 'vector text forms',
      authorNode: 'n',
      embedding: { model: 'forms', vector: components },
    });
    const [row] = await ctx.store.db.query<{ embedding: string }>(
      "SELECT embedding::text AS embedding FROM memories WHERE id = 'v-forms'",
    );
    // pgvector keeps float4: compare at that precision.
    const stored = row!.embedding
      .slice(1, -1)
      .split(',')
      .map((c) => Math.fround(Number(c)));
    expect(stored).toEqual(components.map((c) => Math.fround(c)));
    expect(await ctx.store.memories.delete('v-forms')).toBe(true);
  });

  it('should index another dimension on demand and keep dimensions apart', async () => {
    await ctx.store.memories.ensureVectorIndex(8);
    await ctx.store.memories.ensureVectorIndex(8);
    await ctx.store.memories.upsert({
      id: 'd8',
      text: 'small',
      authorNode: 'n',
      embedding: { model: 'tiny', vector: unitVector(8, [0]) },
    });
    expect((await ctx.store.memories.nearest(unitVector(8, [0]), 5)).map((h) => h.id)).toEqual(['d8']);
    await expect(ctx.store.memories.ensureVectorIndex(0)).rejects.toThrow(RangeError);
  });

  it('should update a memory in place and delete it', async () => {
    await ctx.store.memories.upsert({
      id: 'a',
      text: 'dishwasher filter changed in March',
      tags: ['home'],
      authorNode: 'n',
    });
    expect(await ctx.store.memories.get('a')).toMatchObject({
      text: 'dishwasher filter changed in March',
      tags: ['home'],
      space: null,
    });
    expect(await ctx.store.memories.delete('a')).toBe(true);
    expect(await ctx.store.memories.get('a')).toBeUndefined();
  });
});

describe('store health', () => {
  it('should tell durable failures from bad statements', () => {
    const failure = (fields: Record<string, unknown>) => Object.assign(new Error('x'), fields);
    for (const durable of [
      failure({ code: '53100' }),
      failure({ code: '58030' }),
      failure({ code: '57P01' }),
      failure({ code: 'ECONNREFUSED' }),
      failure({ code: 'ENOSPC' }),
      failure({ name: 'RuntimeError' }),
      new StoreUnavailableError('gone'),
    ]) {
      expect(isDurableStoreError(durable)).toBe(true);
    }
    for (const statement of [
      failure({ code: '23505' }),
      failure({ code: '42601' }),
      failure({ code: '40001' }),
    ]) {
      expect(isDurableStoreError(statement)).toBe(false);
    }
  });

  it('should go degraded on a durable failure and back to ok on the next success', async () => {
    const tracker = new StoreHealthTracker();
    const changes: string[] = [];
    tracker.onChange((health) => changes.push(health.state));
    await expect(
      tracker.track(async () => {
        throw Object.assign(new Error('could not extend file: No space left on device'), { code: '53100' });
      }),
    ).rejects.toThrow();
    expect(tracker.get()).toMatchObject({ state: 'degraded', reason: expect.stringMatching(/No space/) });
    await expect(
      tracker.track(async () => {
        throw Object.assign(new Error('duplicate key'), { code: '23505' });
      }),
    ).rejects.toThrow();
    expect(tracker.get().state).toBe('degraded');
    await tracker.track(async () => 1);
    expect(tracker.get().state).toBe('ok');
    expect(changes).toEqual(['degraded', 'ok']);
  });

  it('should report a lost PostgreSQL server and recover when it is back', async () => {
    const db = await PGlite.create({ extensions: { vector } });
    let server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 10 });
    await server.start();
    const { port } = (server as unknown as { server: { address(): { port: number } } }).server.address();
    const store = await createStore(
      await openPostgresDatabase(`postgres://postgres:x@127.0.0.1:${port}/postgres`, 1),
    );
    try {
      expect(store.db.health().state).toBe('ok');
      await server.stop();
      await expect(store.db.query('SELECT 1')).rejects.toThrow();
      expect(store.db.health().state).toBe('degraded');
      server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 10 });
      await server.start();
      await waitForOk(() => store.db.query('SELECT 1'));
      expect(store.db.health().state).toBe('ok');
    } finally {
      await store.close();
      await server.stop();
      await db.close();
    }
  });
});

/** Retries `statement` until it succeeds (a pool reconnecting after its server came back). */
async function waitForOk(statement: () => Promise<unknown>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await statement();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

describe('store: opening', () => {
  it('should keep data across a close and reopen of the embedded database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'allerac-reopen-'));
    try {
      const first = await createStore(await openPgliteDatabase(join(dir, 'db')));
      await first.settings.set('k', 42);
      // Issued before close(): still written. After: refused.
      const late = first.settings.set('late', true);
      await first.close();
      await late;
      await expect(first.db.query("SELECT value FROM settings WHERE key = 'k'")).rejects.toThrow(/closed/);
      await first.close();
      const second = await createStore(await openPgliteDatabase(join(dir, 'db')));
      expect(await second.settings.get('k')).toBe(42);
      expect(await second.settings.get('late')).toBe(true);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should fail with a clear error when PostgreSQL is unreachable', async () => {
    await expect(openPostgresDatabase('postgres://u:pw@127.0.0.1:1/db')).rejects.toThrow(
      StoreUnavailableError,
    );
    await expect(openPostgresDatabase('postgres://u:pw@127.0.0.1:1/db')).rejects.toThrow(
      /127\.0\.0\.1:1.*DATABASE_URL/,
    );
  });

  it('should never show the password of a database url', () => {
    expect(redactDatabaseUrl('postgres://u:hunter2@db:5432/x')).toBe('postgres://u:***@db:5432/x');
  });
});
