import type { SqlClient } from './sql.js';

/**
 * Key/value settings of this node, stored as JSON. Reads are cached: requests read settings on
 * their way to the first token (routing patience, pre-warm, wake), and each read would otherwise
 * be a round trip to the database worker. Every write goes through `set`, and one node owns its
 * store (node.lock), so the cache cannot go stale.
 */
export class SettingsRepository {
  private readonly cache = new Map<string, unknown>();

  constructor(private readonly sql: SqlClient) {}

  /** The value stored under `key`, or undefined. */
  async get<T>(key: string): Promise<T | undefined> {
    if (this.cache.has(key)) return structuredClone(this.cache.get(key)) as T | undefined;
    const [row] = await this.sql.query<{ value: T }>('SELECT value FROM settings WHERE key = $1', [key]);
    this.cache.set(key, row?.value);
    return structuredClone(row?.value);
  }

  /** Stores `value` under `key`, replacing any previous value. */
  async set(key: string, value: unknown): Promise<void> {
    const json = JSON.stringify(value);
    // Forgotten first: a write that fails leaves the next read to ask the database.
    this.cache.delete(key);
    await this.sql.query(
      `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2::jsonb, now())
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [key, json],
    );
    this.cache.set(key, JSON.parse(json));
  }

  /** Every setting, as a plain object. */
  async all(): Promise<Record<string, unknown>> {
    const rows = await this.sql.query<{ key: string; value: unknown }>(
      'SELECT key, value FROM settings ORDER BY key',
    );
    return Object.fromEntries(rows.map((row) => [row.key, row.value]));
  }
}
