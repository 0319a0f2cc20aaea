/** /allerac/v1/backups: status for the dashboard, the archive list, a backup now, the schedule. */
import { type Static, Type } from '@sinclair/typebox';
import { Closed, IsoTime, Nullable, StoredText } from './schema.js';

/** What made an archive. */
export const BackupKind = Type.Union([
  Type.Literal('manual'),
  Type.Literal('scheduled'),
  Type.Literal('pre-migrate'),
  Type.Literal('pre-restore'),
  Type.Literal('export'),
]);
export type BackupKind = Static<typeof BackupKind>;

/** A schedule of backups (stored as the `backup.schedule` setting). */
export const BackupSchedule = Type.Object({
  /** Five-field cron expression in the node's local time, e.g. "0 3 * * *". */
  cron: Type.String(),
  /** How many scheduled archives to keep in `dir`; older ones are deleted. */
  keep: Type.Number(),
  /** Target directory, e.g. a USB drive's mount point. */
  dir: Type.String(),
  /** A file holding the passphrase; when set, scheduled archives are encrypted. */
  passphraseFile: Type.Optional(Type.String()),
});
export type BackupSchedule = Static<typeof BackupSchedule>;

/** The last completed backup (stored as the `backup.last` setting). */
export const LastBackup = Type.Object({
  file: Type.String(),
  bytes: Type.Number(),
  at: IsoTime,
  kind: BackupKind,
  encrypted: Type.Boolean(),
  location: Type.String(),
});
export type LastBackup = Static<typeof LastBackup>;

/** GET /allerac/v1/backups/status, and the answer to a schedule change. */
export const BackupStatus = Closed({
  last: Nullable(LastBackup),
  schedule: Nullable(BackupSchedule),
  nextRun: Nullable(IsoTime),
  lastError: Nullable(Closed({ at: IsoTime, message: Type.String() })),
  defaultDir: Type.String(),
  /** Where archives may go: the default directory and --backup-dirs. */
  allowedDirs: Type.Array(Type.String()),
  running: Type.Boolean(),
});
export type BackupStatus = Static<typeof BackupStatus>;

/** One archive of GET /allerac/v1/backups, and the answer to POST /allerac/v1/backups. */
export const BackupInfo = Closed({
  file: Type.String(),
  name: Type.String(),
  bytes: Type.Number(),
  kind: BackupKind,
  createdAt: IsoTime,
  encrypted: Type.Boolean(),
  schemaVersion: Type.Number(),
  softwareVersion: Type.String(),
  /** False when the archive fails its checksum; `error` says why. */
  intact: Type.Boolean(),
  error: Type.Optional(Type.String()),
});
export type BackupInfo = Static<typeof BackupInfo>;

/** GET /allerac/v1/backups. */
export const BackupList = Closed({ backups: Type.Array(BackupInfo) });
export type BackupList = Static<typeof BackupList>;

/** POST /allerac/v1/backups: a backup now. */
export const CreateBackupBody = Type.Object({
  kind: Type.Optional(
    Type.Union([Type.Literal('manual'), Type.Literal('export')], { description: '"manual" or "export"' }),
  ),
  dir: Type.Optional(Nullable(StoredText)),
  file: Type.Optional(Nullable(StoredText)),
  passphrase: Type.Optional(
    Nullable(
      Type.String({ minLength: 1, description: 'a non-empty passphrase', pattern: StoredText.pattern }),
    ),
  ),
});
export type CreateBackupBody = Static<typeof CreateBackupBody>;

/** PUT /allerac/v1/backups/schedule. */
export const BackupScheduleBody = Type.Object({
  cron: StoredText,
  keep: Type.Number({ description: 'a number of archives to keep' }),
  dir: StoredText,
  passphraseFile: Type.Optional(Nullable(StoredText)),
});
export type BackupScheduleBody = Static<typeof BackupScheduleBody>;
