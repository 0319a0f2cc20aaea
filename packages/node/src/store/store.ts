import { join } from 'node:path';
import { ConversationOwnerRepository } from '../accounts/conversation-owner-repository.js';
import { SessionRepository } from '../accounts/session-repository.js';
import { UserRepository } from '../accounts/user-repository.js';
import { ConversationRepository } from './conversation-repository.js';
import { MemoryRepository } from './memory-repository.js';
import { migrate } from './migrate.js';
import { openPgliteDatabase } from './pglite-database.js';
import { openPostgresDatabase } from './postgres-database.js';
import { SettingsRepository } from './settings-repository.js';
import { SpaceRepository } from './space-repository.js';
import type { Database } from './sql.js';
import { TokenRepository } from './token-repository.js';

/** The node's persistent state: one database and the repositories over it. */
export interface Store {
  readonly db: Database;
  readonly settings: SettingsRepository;
  readonly tokens: TokenRepository;
  readonly conversations: ConversationRepository;
  readonly memories: MemoryRepository;
  /** Shared-space documents (migration 3). */
  readonly spaces: SpaceRepository;
  /** UI accounts, sessions and who owns which conversation (migration 2). */
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly conversationOwners: ConversationOwnerRepository;
  /** Closes the database; safe to call twice. */
  close(): Promise<void>;
}

/** Where the store lives: PostgreSQL when `databaseUrl` is set, else embedded PGlite. */
export interface StoreOptions {
  databaseUrl?: string | undefined;
  /** The node's data dir; PGlite lives in `<dataDir>/db`. Undefined means in memory (tests). */
  dataDir?: string | undefined;
  /**
   * Runs on the open database before migrations do (the node passes backup/pre-migrate.ts's
   * backup); a throw closes the database and fails the open.
   */
  beforeMigrate?: ((db: Database) => Promise<unknown>) | undefined;
}

/** Wraps an open database with the repositories, after running migrations. */
export async function createStore(db: Database): Promise<Store> {
  try {
    await migrate(db);
  } catch (error) {
    await db.close().catch(() => {});
    throw error;
  }
  return {
    db,
    settings: new SettingsRepository(db),
    tokens: new TokenRepository(db),
    conversations: new ConversationRepository(db),
    memories: new MemoryRepository(db),
    spaces: new SpaceRepository(db),
    users: new UserRepository(db),
    sessions: new SessionRepository(db),
    conversationOwners: new ConversationOwnerRepository(db),
    close: () => db.close(),
  };
}

/** Opens and migrates the store the options name. */
export async function openStore(options: StoreOptions): Promise<Store> {
  const db =
    options.databaseUrl !== undefined && options.databaseUrl !== ''
      ? await openPostgresDatabase(options.databaseUrl)
      : await openPgliteDatabase(options.dataDir === undefined ? undefined : join(options.dataDir, 'db'));
  if (options.beforeMigrate !== undefined) {
    await options.beforeMigrate(db).catch(async (error: unknown) => {
      await db.close().catch(() => {});
      throw error;
    });
  }
  return createStore(db);
}
