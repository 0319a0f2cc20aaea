import { describe, expect, it } from 'vitest';
import { schemaVersion } from '../src/store/migrate.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import type { Database } from '../src/store/sql.js';
import { openStore } from '../src/store/store.js';

describe('the store’s beforeMigrate hook', () => {
  it('should run on the open database before its migrations, once', async () => {
    const seen: unknown[] = [];
    const store = await openStore({
      beforeMigrate: async (db: Database) => {
        const [row] = await db.query<{ table: string | null }>(
          "SELECT to_regclass('public.schema_migrations')::text AS table",
        );
        seen.push(row?.table ?? null);
      },
    });
    try {
      // Nothing migrated yet when the hook ran: it can still back up the data as it was.
      expect(seen).toEqual([null]);
      expect(await schemaVersion(store.db)).toBe(Math.max(...MIGRATIONS.map((m) => m.version)));
    } finally {
      await store.close();
    }
  }, 60_000);

  it('should fail the open, and close the database, when the hook throws', async () => {
    let opened: Database | undefined;
    await expect(
      openStore({
        beforeMigrate: async (db) => {
          opened = db;
          throw new Error('no space for the backup');
        },
      }),
    ).rejects.toThrow('no space for the backup');
    await expect(opened?.query('SELECT 1')).rejects.toThrow();
  }, 60_000);
});
