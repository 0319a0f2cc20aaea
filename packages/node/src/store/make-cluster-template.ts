/**
 * Build step: creates the pristine database cluster that new nodes copy (see CLUSTER_TEMPLATE_DIR).
 * Run by `npm run build`; safe to run again (it rebuilds the template only when missing).
 */
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CLUSTER_TEMPLATE_DIR, initializeCluster } from './pglite-database.js';

if (!existsSync(join(CLUSTER_TEMPLATE_DIR, 'PG_VERSION'))) {
  const scratch = mkdtempSync(join(dirname(CLUSTER_TEMPLATE_DIR), '.cluster-'));
  try {
    await initializeCluster(scratch);
    rmSync(CLUSTER_TEMPLATE_DIR, { recursive: true, force: true });
    renameSync(scratch, CLUSTER_TEMPLATE_DIR);
    console.log(`database cluster template written to ${CLUSTER_TEMPLATE_DIR}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
