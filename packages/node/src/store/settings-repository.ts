import type { SqlClient } from './sql.js';

/** Key/value settings of this node, stored as JSON. */
export class SettingsRepository {
  constructor(private readonly sql: SqlClient) {}

  /** The value stored under `key`, or undefined. */
  async get<T>(key: string): Promise<T | undefined> {
    const [row] = await this.sql.query<{ value: T }>('SELECT value FROM settings WHERE key = $1', [key]);
    return row?.value;
  }

  /** Stores `value` under `key`, replacing any previous value. */
  async set(key: string, value: unknown): Promise<void> {
    await this.sql.query(
      `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2::jsonb, now())
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [key, JSON.stringify(value)],
    );
  }

  /** Every setting, as a plain object. */
  async all(): Promise<Record<string, unknown>> {
    const rows = await this.sql.query<{ key: string; value: unknown }>(
      'SELECT key, value FROM settings ORDER BY key',
    );
    return Object.fromEntries(rows.map((row) => [row.key, row.value]));
  }
}
