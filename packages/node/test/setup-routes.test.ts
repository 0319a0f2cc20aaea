/**
 * Issue #12: the setup wizard's choices reach what reads them. The embedding model goes to the
 * memory service (it was stored under a key nothing read), the chat model becomes the chat page's
 * default, and nodes set up before the fix get their old choices moved by a migration.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/store/migrate.js';
import { openPgliteDatabase } from '../src/store/pglite-database.js';
import { SettingsRepository } from '../src/store/settings-repository.js';
import { createStore } from '../src/store/store.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

const CHAT_MODEL = 'llama3.2:3b';
const DEFAULT_EMBEDDING = 'all-minilm:latest';
const CHOSEN_EMBEDDING = 'nomic-embed-text:latest';

describe('setup wizard: the models it chooses are the models used', () => {
  let t: TestNode;
  let headers: Record<string, string>;

  beforeAll(async () => {
    t = await startTestNode({
      name: 'wizard',
      sim: { profile: 'fast', models: [CHAT_MODEL, DEFAULT_EMBEDDING, CHOSEN_EMBEDDING] },
    });
    const created = await t.node.http.inject({
      method: 'POST',
      url: '/auth/setup',
      payload: { username: 'ana', password: 'correct horse battery' },
    });
    expect(created.statusCode).toBe(201);
    const pairs = (created.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]!);
    const csrf = pairs.find((p) => p.startsWith('allerac_csrf='))!.split('=')[1]!;
    headers = { cookie: pairs.join('; '), 'x-csrf-token': csrf };
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('should have the memory service embed with the embedding model the wizard chose', async () => {
    expect((await t.node.memory.embeddingStatus()).model).toBe(DEFAULT_EMBEDDING);
    const done = await t.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/setup/complete',
      headers,
      payload: { agentName: 'wizard', chatModel: CHAT_MODEL, embeddingModel: CHOSEN_EMBEDDING },
    });
    expect(done.statusCode).toBe(200);
    expect((await t.node.memory.embeddingStatus()).model).toBe(CHOSEN_EMBEDDING);
    const settings = await t.node.http.inject({ method: 'GET', url: '/allerac/v1/memory/settings', headers });
    expect(settings.json().embedding).toMatchObject({ model: CHOSEN_EMBEDDING, active: CHOSEN_EMBEDDING });
    // A memory added now is embedded with the chosen model.
    const added = await t.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/memories',
      headers,
      payload: { text: 'the dishwasher filter was changed in March' },
    });
    expect(added.statusCode).toBe(201);
    const [row] = await t.node.store.db.query<{ embedding_model: string }>(
      'SELECT embedding_model FROM memories WHERE id = $1',
      [added.json().id],
    );
    expect(row?.embedding_model).toBe(CHOSEN_EMBEDDING);
  });

  it("should offer the wizard's chat model to the chat page as its default", async () => {
    const me = await t.node.http.inject({ method: 'GET', url: '/allerac/v1/me', headers });
    expect(me.statusCode).toBe(200);
    expect(me.json().chatModel).toBe(CHAT_MODEL);
  });

  it('should list only known settings, never a retired key such as the mesh key', async () => {
    await t.node.store.settings.set('mesh.joinCode', 'ALRC-SECRET');
    await t.node.store.settings.set('models.embedding', 'stale');
    const settings = await t.node.http.inject({ method: 'GET', url: '/allerac/v1/settings', headers });
    expect(settings.statusCode).toBe(200);
    expect(settings.json()).toMatchObject({
      'agent.name': 'wizard',
      'ui.chatModel': CHAT_MODEL,
      'memory.embeddingModel': CHOSEN_EMBEDDING,
    });
    expect(Object.keys(settings.json())).not.toContain('mesh.joinCode');
    expect(Object.keys(settings.json())).not.toContain('models.embedding');
  });
});

describe('setup wizard: choices stored before the fix', () => {
  it('should move the old wizard keys to the keys that are read, keeping a later choice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'allerac-wizard-keys-'));
    const store = await createStore(await openPgliteDatabase(join(dir, 'db')));
    try {
      const db = store.db;
      // A database as a node set up before migration 7 left it.
      await db.query('DELETE FROM schema_migrations WHERE version >= 7');
      await store.settings.set('models.embedding', CHOSEN_EMBEDDING);
      await store.settings.set('models.chat', CHAT_MODEL);

      expect(await migrate(db)).toContain(7);
      // Read as the node reads after its start-up migration: a repository made after it (the
      // store's caches what it wrote, and migrations run before any repository exists).
      const settings = new SettingsRepository(db);
      expect(await settings.get('memory.embeddingModel')).toBe(CHOSEN_EMBEDDING);
      expect(await settings.get('ui.chatModel')).toBe(CHAT_MODEL);
      expect(await settings.get('models.embedding')).toBeUndefined();
      expect(await settings.get('models.chat')).toBeUndefined();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should keep an embedding model chosen later in the memory settings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'allerac-wizard-keys-'));
    const store = await createStore(await openPgliteDatabase(join(dir, 'db')));
    try {
      const db = store.db;
      await db.query('DELETE FROM schema_migrations WHERE version >= 7');
      await store.settings.set('models.embedding', DEFAULT_EMBEDDING);
      await store.settings.set('memory.embeddingModel', CHOSEN_EMBEDDING);
      expect(await migrate(db)).toContain(7);
      expect(await store.settings.get('memory.embeddingModel')).toBe(CHOSEN_EMBEDDING);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
