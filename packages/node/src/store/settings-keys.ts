/**
 * Every setting the node keeps in its settings table: the one list of keys, with the type of each
 * value and its default. Code reads and writes settings only through `readSetting` and
 * `writeSetting`, so a key is spelt once, here, and a misspelt one does not compile.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { BackupSchedule, LastBackup } from '../contract/backup.js';
import { Nullable } from '../contract/schema.js';
import { UpdateCheck, UpdateSource } from '../contract/update.js';
import { Language, Specialization } from '../contract/vocabulary.js';
import { DEFAULT_CHAT_SETTINGS } from '../memory/constants.js';
import { DEFAULT_PATIENCE_MS } from '../wake/constants.js';
import type { SettingsRepository } from './settings-repository.js';

/** Each setting's key and the schema of its value. */
export const SETTING_SCHEMAS = {
  /** The agent's name chosen in the setup wizard or Settings; `--name` overrides it at start. */
  'agent.name': Type.String(),
  /** What this agent is for; `--specializations` applies until the wizard sets it. */
  'agent.specializations': Type.Array(Specialization),
  /** The UI's language before a user picks their own. */
  'ui.language': Language,
  /** The model the chat page starts with when a browser has not picked one. */
  'ui.chatModel': Type.String(),
  /** When the setup wizard was finished (ISO time); set once. */
  'setup.completedAt': Type.String(),
  /** The Ollama URL chosen in Settings; `--ollama-url` (or its environment twins) overrides it at start. */
  'backend.ollamaUrl': Type.String(),
  /** Serve the home network (0.0.0.0) rather than this machine only, from the next start; `--http-host` overrides it. */
  'http.serveLan': Type.Boolean(),
  /** The embedding model the user chose; changing it re-embeds in the background. */
  'memory.embeddingModel': Type.String(),
  /** The model the live index vectors come from (internal). */
  'memory.activeEmbeddingModel': Type.String(),
  /** Memory-aware chat on or off. */
  'memory.chat.enabled': Type.Boolean(),
  /** How many memories a chat may draw on. */
  'memory.chat.k': Type.Integer({ minimum: 1, maximum: 20 }),
  /** Lowest score a memory needs to be added to a chat. */
  'memory.chat.threshold': Type.Number({ minimum: -1, maximum: 2 }),
  /** Space invitations declined: space name → the peers whose offer was declined. */
  'memory.declinedInvitations': Type.Record(Type.String(), Type.Array(Type.String())),
  /**
   * The names this node wrote memories under before its author id became its peer id (recorded
   * once, at the first start that migrated them): memories naming them as author are its own.
   */
  'memory.formerAuthors': Type.Array(Type.String()),
  /** The author id (peer id) this store's memories were last written under; another one joins `memory.formerAuthors`. */
  'memory.authorId': Type.String(),
  /** Whether the node may look for updates (opt-in: nothing leaves the home otherwise). */
  'update.enabled': Type.Boolean(),
  /** Where updates come from. */
  'update.source': UpdateSource,
  /** The outcome of the last check. */
  'update.lastCheck': UpdateCheck,
  /** The backup schedule; null once it is cleared. */
  'backup.schedule': Nullable(BackupSchedule),
  /** The last completed backup. */
  'backup.last': LastBackup,
  /** Whether this node sends Wake-on-LAN packets to sleeping peers it would route to. */
  'wake.enabled': Type.Boolean(),
  /** Whether this machine can be woken by a magic packet (published in its card). */
  'wake.wakeOnLan': Type.Boolean(),
  /** Whether the home prefers this machine while it is on (published in its card). */
  'wake.preferredWhenOn': Type.Boolean(),
  /** How long a user will wait for a better (sleeping) machine before an awake one serves, ms. */
  'routing.patienceMs': Type.Integer({ minimum: 0, maximum: 600_000 }),
  /** Whether models in demand are loaded ahead of need where they serve best (inference/prewarm.ts). */
  'routing.prewarm': Type.Boolean(),
} as const;

/** A setting's key. */
export type SettingKey = keyof typeof SETTING_SCHEMAS;
/** The value a setting holds. */
export type SettingValue<K extends SettingKey> = Static<(typeof SETTING_SCHEMAS)[K]>;

/** Values of the settings that have one when none is stored. */
export const SETTING_DEFAULTS = {
  'memory.chat.enabled': DEFAULT_CHAT_SETTINGS.enabled,
  'memory.chat.k': DEFAULT_CHAT_SETTINGS.k,
  'memory.chat.threshold': DEFAULT_CHAT_SETTINGS.threshold,
  'update.enabled': false,
  'update.source': { kind: 'npm', package: '@allerac/node' },
  'wake.enabled': true,
  // Off until the owner says the firmware wakes on LAN: a packet to a machine that cannot wake is a wait for nothing.
  'wake.wakeOnLan': false,
  'wake.preferredWhenOn': false,
  'routing.patienceMs': DEFAULT_PATIENCE_MS,
  // Off by default: a load ahead of need spends memory and disk on a guess.
  'routing.prewarm': false,
} as const satisfies { [K in SettingKey]?: SettingValue<K> };

type Defaulted = keyof typeof SETTING_DEFAULTS;

/** What reading a setting gives: its value, or its default, or undefined when it has none. */
export type SettingRead<K extends SettingKey> = K extends Defaulted
  ? SettingValue<K>
  : SettingValue<K> | undefined;

/**
 * Keys the node used to write and no longer does. `mesh.joinCode` held the mesh key itself, which
 * must never be in the settings table (cleartext backups carry it); the `models.*` keys were the
 * wizard's, read by nothing (migration 7 moves them to `ui.chatModel` and `memory.embeddingModel`).
 */
export const RETIRED_SETTING_KEYS = {
  meshJoinCode: 'mesh.joinCode',
  chatModel: 'models.chat',
  embeddingModel: 'models.embedding',
} as const;

/** Thrown when code writes a value its setting's schema refuses: a bug, not bad input. */
export class InvalidSettingError extends Error {
  override name = 'InvalidSettingError';
  constructor(readonly key: SettingKey) {
    super(`the value written to setting ${key} does not match its schema`);
  }
}

/**
 * Reads a setting. A stored value its schema refuses (written by hand, or by another version) is
 * taken as absent, so the default applies instead of a value of the wrong type.
 */
export async function readSetting<K extends SettingKey>(
  settings: SettingsRepository,
  key: K,
): Promise<SettingRead<K>> {
  const stored = await settings.get<unknown>(key);
  if (stored !== undefined && Value.Check(SETTING_SCHEMAS[key], stored)) return stored as SettingRead<K>;
  return (SETTING_DEFAULTS as Partial<Record<SettingKey, unknown>>)[key] as SettingRead<K>;
}

/** Writes a setting; throws InvalidSettingError when the value does not match the setting's schema. */
export async function writeSetting<K extends SettingKey>(
  settings: SettingsRepository,
  key: K,
  value: SettingValue<K>,
): Promise<void> {
  if (!Value.Check(SETTING_SCHEMAS[key], value)) throw new InvalidSettingError(key);
  await settings.set(key, value);
}

/** Every known setting that is stored, by key (the settings table may hold others, which are not). */
export async function storedSettings(
  settings: SettingsRepository,
): Promise<{ [K in SettingKey]?: SettingValue<K> }> {
  const all = await settings.all();
  return Object.fromEntries(
    Object.entries(all).filter(
      ([key, value]) =>
        Object.hasOwn(SETTING_SCHEMAS, key) && Value.Check(SETTING_SCHEMAS[key as SettingKey], value),
    ),
  );
}
