/**
 * `allerac admin reset-password USER`: a forgotten password, reset from the machine itself. With
 * the node running it goes through the management API with the data dir's CLI token; with the
 * node stopped, straight into its store, under the data dir's lock so no node starts meanwhile.
 * Either way every session of the account ends.
 */
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { AccountService } from './accounts/account-service.js';
import { preMigrateBackup } from './backup/pre-migrate.js';
import { findRunningNode } from './backup/runtime-file.js';
import { DEFAULTS } from './config.js';
import type { UserList } from './contract/account.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import { InvalidInputError, NotFoundError } from './errors.js';
import { connectNode } from './node-client.js';
import { openStore } from './store/store.js';

/** No account has this username. */
export class AccountNotFoundError extends NotFoundError {
  override name = 'AccountNotFoundError';
  constructor(username: string) {
    super(`no account is named "${username}"`, { code: 'account_not_found' });
  }
}

/** Letters and digits that cannot be misread for one another (no 0/O, 1/I/L). */
const PASSWORD_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';

/** A password to type once and replace: four groups of four, about 79 bits. */
export function generateOneTimePassword(): string {
  const group = () =>
    Array.from({ length: 4 }, () => PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)]).join('');
  return [group(), group(), group(), group()].join('-');
}

/** Where the account lives. */
export interface ResetPasswordOptions {
  dataDir: string;
  /** The stopped node's PostgreSQL; unset means its embedded store (or DATABASE_URL). */
  databaseUrl?: string | undefined;
}

/** Sets `username`'s password and ends its sessions; says whether it went through the running node. */
export async function resetPassword(
  options: ResetPasswordOptions,
  username: string,
  password: string,
): Promise<{ via: 'node' | 'store' }> {
  const dataDir = resolve(options.dataDir);
  if (findRunningNode(dataDir) !== undefined) {
    const client = connectNode({ dataDir });
    const { users } = await client.call<UserList>('GET', '/allerac/v1/users');
    const user = users.find((u) => u.username.toLowerCase() === username.trim().toLowerCase());
    if (user === undefined) throw new AccountNotFoundError(username);
    await client.call('POST', `/allerac/v1/users/${encodeURIComponent(user.id)}/password`, { password });
    return { via: 'node' };
  }
  const url = options.databaseUrl ?? process.env.DATABASE_URL;
  const databaseUrl = url === '' ? undefined : url;
  // Opening the store would create an embedded database in a dir that has none.
  if (databaseUrl === undefined && !existsSync(join(dataDir, 'db', 'PG_VERSION')))
    throw new AccountNotFoundError(username);
  const lock = acquireDataDirLock(dataDir, 'admin reset-password');
  try {
    const store = await openStore({ databaseUrl, dataDir, beforeMigrate: preMigrateBackup(dataDir) });
    try {
      const accounts = new AccountService(store.users, store.sessions, store.settings);
      const user = await accounts.findUser(username);
      if (user === undefined) throw new AccountNotFoundError(username);
      await accounts.resetPassword(user.id, password);
    } finally {
      await store.close();
    }
  } finally {
    lock.release();
  }
  return { via: 'store' };
}

async function readPassword(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  // The first line, as `echo secret | allerac ...` or a password manager's pipe gives it.
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password === '') throw new InvalidInputError('no password on stdin');
  return password;
}

/** Registers `admin` and its subcommands. */
export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description('administer the node from this machine');
  admin
    .command('reset-password <username>')
    .description(
      "set a forgotten password: prints a one-time password (or takes one from stdin) and ends the account's sessions; works with the node running or stopped",
    )
    .addOption(
      new Option('--data-dir <dir>', 'the node data dir').env('ALLERAC_DATA_DIR').default(DEFAULTS.dataDir),
    )
    .addOption(
      new Option('--database-url <url>', 'PostgreSQL URL of a stopped node (env DATABASE_URL too)').env(
        'ALLERAC_DATABASE_URL',
      ),
    )
    .option('--password-stdin', 'read the new password from the first line of stdin instead')
    .action(async (username: string, options: ResetPasswordOptions & { passwordStdin?: boolean }) => {
      const given = options.passwordStdin === true;
      const password = given ? await readPassword(process.stdin) : generateOneTimePassword();
      await resetPassword(options, username, password);
      if (given) console.log(`The password of ${username} is set; every session of ${username} has ended.`);
      else
        console.log(
          `One-time password for ${username}: ${password}\nLog in with it and choose a new one in Settings. Every session of ${username} has ended.`,
        );
    });
}
