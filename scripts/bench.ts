/**
 * `npm run bench -- <name> [args]` runs simulations/bench/<name>.ts; with no name it runs them all.
 * Each benchmark prints a table and writes bench-results/<name>.json.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const benchDir = join(import.meta.dirname, '..', 'simulations', 'bench');
const available = readdirSync(benchDir)
  .filter((file) => file.endsWith('.ts') && !file.startsWith('_'))
  .map((file) => file.replace(/\.ts$/, ''));

const [name, ...rest] = process.argv.slice(2);
if (name !== undefined && !available.includes(name)) {
  console.error(`unknown benchmark "${name}"; available: ${available.join(', ')}`);
  process.exit(2);
}
for (const bench of name === undefined ? available : [name]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, `${bench}.ts`), ...rest], {
    stdio: 'inherit',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
