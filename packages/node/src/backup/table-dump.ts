/**
 * Schema-aware dump and load of the node's tables. The table list comes from information_schema
 * at backup time, so tables that later migrations add are included without code changes.
 * Vector columns and generated columns are left out; `schema_migrations` becomes the recorded
 * schema version.
 */
import { migrate, schemaVersion } from '../store/migrate.js';
import { MIGRATIONS } from '../store/migrations.js';
import type { SqlClient, SqlTransaction } from '../store/sql.js';
import { sha256Hex } from './archive.js';
import { BOOKKEEPING_TABLES, DUMP_ROW_FILTERS, RESTORE_BATCH_ROWS, VECTOR_TYPES } from './constants.js';
import { BackupFormatError } from './errors.js';

/** One table as dumped: rows as JSON lines (one `to_jsonb` object per line). */
export interface TableDump {
  name: string;
  /** Columns present in the rows. */
  columns: string[];
  /** Columns left out on purpose (vectors, generated). */
  excluded: string[];
  rows: number;
  jsonl: string;
  sha256: string;
}

/** A whole database as dumped. */
export interface DatabaseDump {
  schemaVersion: number;
  tables: TableDump[];
}

interface ColumnInfo {
  table_name: string;
  column_name: string;
  udt_name: string;
  is_generated: string;
  column_default: string | null;
  is_identity: string;
}

/** Quotes an identifier for SQL. */
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

async function columnsOf(sql: Pick<SqlTransaction, 'query'>): Promise<Map<string, ColumnInfo[]>> {
  const rows = await sql.query<ColumnInfo>(
    `SELECT c.table_name, c.column_name, c.udt_name, c.is_generated, c.column_default, c.is_identity
     FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
     ORDER BY c.table_name, c.ordinal_position`,
  );
  const tables = new Map<string, ColumnInfo[]>();
  for (const row of rows) {
    if (BOOKKEEPING_TABLES.includes(row.table_name)) continue;
    const list = tables.get(row.table_name) ?? [];
    list.push(row);
    tables.set(row.table_name, list);
  }
  return tables;
}

const isExcluded = (column: ColumnInfo): boolean =>
  VECTOR_TYPES.includes(column.udt_name) || column.is_generated === 'ALWAYS';

const rowFilter = (table: string): string => {
  const filter = DUMP_ROW_FILTERS[table];
  return filter === undefined ? '' : ` WHERE ${filter}`;
};

/** Parents before children, from the foreign keys, so a load never breaks a reference. */
async function loadOrder(sql: Pick<SqlTransaction, 'query'>, tables: readonly string[]): Promise<string[]> {
  const edges = await sql.query<{ child: string; parent: string }>(
    `SELECT cl.relname AS child, pcl.relname AS parent
     FROM pg_constraint co
     JOIN pg_class cl ON cl.oid = co.conrelid
     JOIN pg_class pcl ON pcl.oid = co.confrelid
     JOIN pg_namespace n ON n.oid = cl.relnamespace
     WHERE co.contype = 'f' AND n.nspname = current_schema()`,
  );
  const ordered: string[] = [];
  const visiting = new Set<string>();
  const visit = (table: string) => {
    if (ordered.includes(table) || visiting.has(table)) return;
    visiting.add(table);
    for (const edge of edges) if (edge.child === table && edge.parent !== table) visit(edge.parent);
    visiting.delete(table);
    if (tables.includes(table)) ordered.push(table);
  };
  for (const table of [...tables].sort()) visit(table);
  return ordered;
}

/**
 * Dumps every table in one repeatable-read transaction (a consistent snapshot while the node
 * keeps writing), with timestamps in UTC so the bytes do not depend on the server's time zone.
 */
export async function dumpDatabase(sql: SqlClient): Promise<DatabaseDump> {
  return sql.transaction(async (tx) => {
    await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await tx.exec("SET LOCAL TIME ZONE 'UTC'");
    const version = await schemaVersion(tx as SqlClient);
    const tables = await columnsOf(tx);
    const dumps: TableDump[] = [];
    for (const name of await loadOrder(tx, [...tables.keys()])) {
      const info = tables.get(name) ?? [];
      const columns = info.filter((c) => !isExcluded(c)).map((c) => c.column_name);
      const excluded = info.filter(isExcluded).map((c) => c.column_name);
      if (columns.length === 0) continue;
      // Sorted by the row's own text in byte order: deterministic on any server and collation.
      const rows = await tx.query<{ line: string }>(
        `SELECT r::text AS line FROM (SELECT to_jsonb(t) AS r FROM (SELECT ${columns
          .map(quoteIdent)
          .join(', ')} FROM ${quoteIdent(name)}${rowFilter(name)}) t) s ORDER BY r::text COLLATE "C"`,
      );
      const jsonl = rows.map((row) => `${row.line}\n`).join('');
      dumps.push({ name, columns, excluded, rows: rows.length, jsonl, sha256: sha256Hex(jsonl) });
    }
    return { schemaVersion: version, tables: dumps };
  });
}

/** True when the database has been migrated at least once (it holds a node's data). */
export async function hasSchema(sql: SqlClient): Promise<boolean> {
  const [row] = await sql.query<{ present: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM information_schema.tables
       WHERE table_schema = current_schema() AND table_name = 'schema_migrations') AS present`,
  );
  return row?.present === true && (await schemaVersion(sql)) > 0;
}

/** What a load did, for logs and `verify`. */
export interface LoadReport {
  /** Rows inserted per table. */
  rows: Record<string, number>;
  /** Tables in the archive that the target schema does not have (skipped). */
  skipped: string[];
  /** Migrations applied after the load, to bring old data to this software's schema. */
  migratedTo: number;
}

/**
 * Replaces the database's contents with a dump. An empty database is migrated to the dump's
 * schema version, loaded, then migrated to the latest (so data migrations apply to old data);
 * a database already at a newer schema is emptied and loaded, new columns taking their defaults.
 * `upToArchiveVersionOnly` stops after the load (what `verify` compares).
 */
export async function loadDatabase(
  sql: SqlClient,
  dump: DatabaseDump,
  options: { upToArchiveVersionOnly?: boolean } = {},
): Promise<LoadReport> {
  const known = Math.max(0, ...MIGRATIONS.map((m) => m.version));
  if (dump.schemaVersion > known) {
    throw new BackupFormatError(
      `the archive was taken at schema version ${dump.schemaVersion}, newer than this allerac knows (${known}); ` +
        'update allerac first, then restore',
    );
  }
  if (await hasSchema(sql)) {
    await migrate(sql);
  } else {
    await migrate(
      sql,
      MIGRATIONS.filter((m) => m.version <= dump.schemaVersion),
    );
  }
  const report: LoadReport = { rows: {}, skipped: [], migratedTo: 0 };
  await sql.transaction(async (tx) => {
    await tx.exec("SET LOCAL TIME ZONE 'UTC'");
    const target = await columnsOf(tx);
    if (target.size > 0) {
      await tx.exec(`TRUNCATE ${[...target.keys()].map(quoteIdent).join(', ')} CASCADE`);
    }
    const byName = new Map(dump.tables.map((t) => [t.name, t]));
    for (const name of await loadOrder(
      tx,
      [...byName.keys()].filter((n) => target.has(n)),
    )) {
      const table = byName.get(name);
      const info = target.get(name);
      if (table === undefined || info === undefined) continue;
      const writable = new Set(info.filter((c) => !isExcluded(c)).map((c) => c.column_name));
      const columns = table.columns
        .filter((c) => writable.has(c))
        .map(quoteIdent)
        .join(', ');
      const lines = table.jsonl.split('\n').filter((line) => line !== '');
      for (let at = 0; at < lines.length; at += RESTORE_BATCH_ROWS) {
        const batch = `[${lines.slice(at, at + RESTORE_BATCH_ROWS).join(',')}]`;
        await tx.query(
          `INSERT INTO ${quoteIdent(name)} (${columns}) OVERRIDING SYSTEM VALUE
           SELECT ${columns} FROM jsonb_populate_recordset(NULL::${quoteIdent(name)}, $1::jsonb)`,
          [batch],
        );
      }
      report.rows[name] = lines.length;
      // Serial and identity columns continue after the restored ids.
      for (const column of info.filter(
        (c) => c.is_identity === 'YES' || c.column_default?.startsWith('nextval('),
      )) {
        await tx.query(
          `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(${quoteIdent(column.column_name)}) FROM ${quoteIdent(name)}), 0) + 1, false)`,
          [quoteIdent(name), column.column_name],
        );
      }
    }
    report.skipped = dump.tables.map((t) => t.name).filter((n) => !target.has(n));
  });
  if (!options.upToArchiveVersionOnly) await migrate(sql);
  report.migratedTo = await schemaVersion(sql);
  return report;
}
