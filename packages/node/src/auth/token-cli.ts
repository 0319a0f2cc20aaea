/**
 * `allerac token [--expires 30d]`, `allerac token list` and `allerac token revoke ID`. Admin tokens
 * of the token file are issued and revoked in the file itself, so this works while the node runs;
 * the API's tokens (database) are listed and revoked through the running node, or straight from
 * the database of a stopped one.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { preMigrateBackup } from '../backup/pre-migrate.js';
import { findRunningNode } from '../backup/runtime-file.js';
import { DEFAULTS } from '../config.js';
import { callNode } from '../node-client.js';
import { openStore } from '../store/store.js';
import { issueAdminToken, revokeFileToken } from './token-file.js';
import { resolveExpiry } from './token-lifetime.js';
import { listFileTokens, type TokenInfo, TokenRegistry } from './token-registry.js';

/** No token has this id (or it was revoked already). */
export class TokenNotFoundError extends Error {
  override name = 'TokenNotFoundError';
}

interface TokenCliOptions {
  dataDir: string;
  databaseUrl?: string;
}

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'the node data dir').env('ALLERAC_DATA_DIR').default(DEFAULTS.dataDir);

const databaseUrlOption = () =>
  new Option(
    '--database-url <url>',
    'PostgreSQL URL (env DATABASE_URL too), for a stopped node; unset = embedded PGlite',
  ).env('ALLERAC_DATABASE_URL');

/** Runs `fn` against the tokens of a stopped node's database; `fallback` when it has none yet. */
async function withOfflineRegistry<T>(
  options: TokenCliOptions,
  fn: (registry: TokenRegistry) => Promise<T>,
  fallback: () => T,
): Promise<T> {
  const url = options.databaseUrl ?? process.env.DATABASE_URL;
  const databaseUrl = url === '' ? undefined : url;
  const dataDir = resolve(options.dataDir);
  // Listing must not create an embedded database in a data dir that has none.
  if (databaseUrl === undefined && !existsSync(join(dataDir, 'db', 'PG_VERSION'))) return fallback();
  const store = await openStore({ databaseUrl, dataDir, beforeMigrate: preMigrateBackup(dataDir) });
  try {
    return await fn(new TokenRegistry(dataDir, store.tokens));
  } finally {
    await store.close();
  }
}

/** Every token of the node: through it when it runs, else from its data dir. */
export async function listTokens(options: TokenCliOptions): Promise<TokenInfo[]> {
  const dataDir = resolve(options.dataDir);
  const node = findRunningNode(dataDir);
  if (node !== undefined)
    return (await callNode<{ tokens: TokenInfo[] }>(dataDir, node, 'GET', '/allerac/v1/tokens')).tokens;
  return withOfflineRegistry(
    options,
    (registry) => registry.list(),
    () => listFileTokens(dataDir),
  );
}

/** Revokes a token by id, wherever it is kept. */
export async function revokeToken(options: TokenCliOptions, id: string): Promise<void> {
  const dataDir = resolve(options.dataDir);
  if (revokeFileToken(dataDir, id)) return;
  const node = findRunningNode(dataDir);
  let revoked: boolean;
  if (node !== undefined) {
    revoked = await callNode(dataDir, node, 'DELETE', `/allerac/v1/tokens/${encodeURIComponent(id)}`).then(
      () => true,
      (error: { status?: number }) => {
        if (error.status === 404) return false;
        throw error;
      },
    );
  } else {
    revoked = await withOfflineRegistry(
      options,
      (registry) => registry.revoke(id),
      () => false,
    );
  }
  if (!revoked) throw new TokenNotFoundError(`no live token has the id ${id}; see allerac token list`);
}

const describeState = (token: TokenInfo): string =>
  token.state === 'revoked'
    ? `revoked ${token.revokedAt}`
    : token.state === 'expired'
      ? `expired ${token.expiresAt}`
      : token.expiresAt === null
        ? 'never expires'
        : `expires ${token.expiresAt}`;

/** Registers `token` and its subcommands on the program. */
export function registerTokenCommands(program: Command): void {
  const token = program
    .command('token')
    .description('issue, list and revoke API tokens (`allerac token` alone prints a new admin token)');

  token
    .command('create', { isDefault: true })
    .description('print a new admin API token for a node (stored hashed in its data dir)')
    .addOption(dataDirOption())
    .option('--name <name>', 'a label for the token', 'cli')
    .option('--expires <duration>', 'how long the token lives, e.g. 30d, 12h or 2w (default: until revoked)')
    .action((options: { dataDir: string; name: string; expires?: string }) => {
      const expiresAt =
        options.expires === undefined ? undefined : resolveExpiry({ expiresIn: options.expires });
      console.log(
        issueAdminToken(options.dataDir, options.name, expiresAt === undefined ? {} : { expiresAt }),
      );
    });

  token
    .command('list')
    .description(
      "list the node's tokens and device keys: the CLI's admin tokens and the API's, with their state",
    )
    .addOption(dataDirOption())
    .addOption(databaseUrlOption())
    .option('--json', 'print JSON')
    .action(async (options: TokenCliOptions & { json?: boolean }) => {
      const tokens = await listTokens(options);
      if (options.json) {
        console.log(JSON.stringify(tokens, null, 2));
        return;
      }
      if (tokens.length === 0) console.log('no tokens');
      for (const t of tokens) {
        console.log(
          `${t.id}  ${t.source}  ${t.device ? 'device' : 'token'}  ${t.role}  ${t.name}  created ${t.createdAt}, ${describeState(t)}`,
        );
      }
    });

  token
    .command('revoke <id>')
    .description('revoke a token by its id (from `allerac token list`); it stops working at once')
    .addOption(dataDirOption())
    .addOption(databaseUrlOption())
    .action(async (id: string, options: TokenCliOptions) => {
      await revokeToken(options, id);
      console.log(`revoked ${id}`);
    });
}
