import type { SpacePolicy, SpaceStorage, StoredSpace } from '@allerac/memory-sync';
import type { SqlClient } from './sql.js';

interface SpaceRow {
  name: string;
  epoch: number;
  policy: SpacePolicy;
  doc: Uint8Array;
}

/** Shared-space documents in the `memory_spaces` table (migration 3): the store-backed SpaceStorage. */
export class SpaceRepository implements SpaceStorage {
  constructor(private readonly sql: SqlClient) {}

  /** Every stored space. */
  async loadAll(): Promise<StoredSpace[]> {
    const rows = await this.sql.query<SpaceRow>(
      'SELECT name, epoch, policy, doc FROM memory_spaces ORDER BY name',
    );
    return rows.map((row) => ({
      name: row.name,
      epoch: row.epoch,
      policy: row.policy,
      doc: new Uint8Array(row.doc),
    }));
  }

  /** Inserts or replaces a space; durable once resolved. */
  async save(space: StoredSpace): Promise<void> {
    await this.sql.query(
      `INSERT INTO memory_spaces (name, epoch, policy, doc, updated_at) VALUES ($1, $2, $3::jsonb, $4, now())
       ON CONFLICT (name) DO UPDATE SET epoch = EXCLUDED.epoch, policy = EXCLUDED.policy, doc = EXCLUDED.doc,
         updated_at = now()`,
      [space.name, space.epoch, JSON.stringify(space.policy), Buffer.from(space.doc)],
    );
  }

  /** Forgets a space. */
  async remove(name: string): Promise<void> {
    await this.sql.query('DELETE FROM memory_spaces WHERE name = $1', [name]);
  }
}
