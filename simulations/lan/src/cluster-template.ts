/**
 * One initialised PGlite cluster, copied into every host's data dir. A node creates its cluster
 * (initdb) on first start, which takes tens of seconds of CPU each; twenty of them at once on a
 * small machine would dominate every run. The copy is exactly what that initdb makes (the same
 * PGlite, extensions and settings), and each node still runs its own migrations on it.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** Where templates are kept between runs, one per PGlite version. */
const CACHE_DIR = join(tmpdir(), 'allerac-lan-cache');
/** Must match PGLITE_CONFIG in packages/node/src/store/pglite-database.ts. */
const PGLITE_CONFIG = ['shared_buffers=16MB'];

/** Returns the template cluster's directory, making it on first use. */
export async function ensureClusterTemplate(): Promise<string> {
  // The package does not export its package.json; find it from the entry point.
  let pkgDir = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  while (!existsSync(join(pkgDir, 'package.json')) && dirname(pkgDir) !== pkgDir) pkgDir = dirname(pkgDir);
  const version = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string })
    .version;
  const dir = join(CACHE_DIR, `pglite-${version}`);
  if (existsSync(join(dir, 'PG_VERSION'))) return dir;
  mkdirSync(CACHE_DIR, { recursive: true });
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const script = `
    const { PGlite } = await import(${JSON.stringify(import.meta.resolve('@electric-sql/pglite'))});
    const { vector } = await import(${JSON.stringify(import.meta.resolve('@electric-sql/pglite-pgvector'))});
    const db = await PGlite.create({ dataDir: process.argv[1], extensions: { vector }, postgresqlconf: ${JSON.stringify(PGLITE_CONFIG)} });
    await db.close();`;
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, tmp], {
    timeout: 180_000,
  });
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/** Copies the template into `<dataDir>/db`. */
export function installCluster(template: string, dataDir: string): void {
  cpSync(template, join(dataDir, 'db'), { recursive: true });
}
