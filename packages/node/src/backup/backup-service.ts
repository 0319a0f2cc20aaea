/**
 * The running node's backups: on demand (management API) and on a cron schedule with retention.
 * The daemon owns the database, so while it runs every backup is taken here, in-process.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { readSetting, writeSetting } from '../store/settings-keys.js';
import type { SettingsRepository } from '../store/settings-repository.js';
import type { SqlClient } from '../store/sql.js';
import type { BackupKind } from './archive.js';
import {
  archiveName,
  type BackupInfo,
  describeArchive,
  ensureBackupDir,
  listArchives,
  pruneArchives,
  writeArchiveFile,
} from './backup-files.js';
import { BackupTargets } from './backup-targets.js';
import { BACKUP_SETTINGS, DEFAULT_BACKUP_SUBDIR } from './constants.js';
import { type CronSchedule, nextCronRun, parseCron } from './cron.js';
import { BackupError } from './errors.js';
import { createArchive } from './snapshot.js';

/** A backup schedule, stored as the `backup.schedule` setting. */
export interface BackupSchedule {
  /** Five-field cron expression in the node's local time, e.g. "0 3 * * *". */
  cron: string;
  /** How many scheduled archives to keep in `dir`; older ones are deleted. */
  keep: number;
  /** Target directory, e.g. a USB drive's mount point. */
  dir: string;
  /** A file holding the passphrase; when set, scheduled archives are encrypted. */
  passphraseFile?: string;
}

/** The last completed backup, stored as the `backup.last` setting. */
export interface LastBackup {
  file: string;
  bytes: number;
  at: string;
  kind: BackupKind;
  encrypted: boolean;
  location: string;
}

/** What the dashboard shows. */
export interface BackupStatus {
  last: LastBackup | null;
  schedule: BackupSchedule | null;
  nextRun: string | null;
  lastError: { at: string; message: string } | null;
  defaultDir: string;
  /** Where archives may go: the default directory and --backup-dirs. */
  allowedDirs: string[];
  running: boolean;
}

/** Options of a backup taken now. */
export interface CreateBackupOptions {
  /** Target directory; default `<dataDir>/backups`. */
  dir?: string | undefined;
  /** Exact target file (export); overrides `dir`. */
  file?: string | undefined;
  passphrase?: string | undefined;
  kind?: BackupKind;
}

/** Where the data is. */
export interface BackupServiceInit {
  dataDir: string;
  meshKeyFile?: string | undefined;
  /** Directories archives may go to besides `<dataDir>/backups` (--backup-dirs). */
  allowedDirs?: readonly string[] | undefined;
  /** How often the scheduler looks at the clock; 20 s keeps it within the scheduled minute. */
  checkIntervalMs?: number;
}

/** What the service uses. */
export interface BackupServiceComponents {
  sql: SqlClient;
  settings: SettingsRepository;
  logger: Logger;
}

/** Validates a schedule and returns it normalised; throws BackupError or CronSyntaxError. */
export function validateSchedule(input: BackupSchedule): BackupSchedule {
  parseCron(input.cron);
  if (!Number.isInteger(input.keep) || input.keep < 1 || input.keep > 10_000) {
    throw new BackupError('keep must be a whole number of archives, at least 1');
  }
  if (typeof input.dir !== 'string' || input.dir === '')
    throw new BackupError('a schedule needs a directory');
  return {
    cron: input.cron.trim(),
    keep: input.keep,
    dir: resolve(input.dir),
    ...(input.passphraseFile ? { passphraseFile: resolve(input.passphraseFile) } : {}),
  };
}

/** Backups of a running node. */
export class BackupService {
  private timer: NodeJS.Timeout | undefined;
  private schedule: BackupSchedule | null = null;
  private cron: CronSchedule | undefined;
  private nextRun: Date | undefined;
  private lastError: BackupStatus['lastError'] = null;
  private inFlight: Promise<BackupInfo> | undefined;
  private readonly defaultDir: string;
  private readonly targets: BackupTargets;

  constructor(
    private readonly init: BackupServiceInit,
    private readonly components: BackupServiceComponents,
  ) {
    this.defaultDir = join(init.dataDir, DEFAULT_BACKUP_SUBDIR);
    this.targets = new BackupTargets(this.defaultDir, init.allowedDirs ?? []);
  }

  /** Loads the schedule and starts the timer; safe to call twice. */
  async start(): Promise<void> {
    if (this.timer !== undefined) return;
    const stored = await readSetting(this.components.settings, BACKUP_SETTINGS.schedule);
    this.applySchedule(stored ?? null);
    this.timer = setInterval(() => void this.tick(), this.init.checkIntervalMs ?? 20_000);
    this.timer.unref();
  }

  /** Stops the timer and waits for a backup in flight; safe to call twice. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight?.catch(() => {});
  }

  /** Takes a backup now. One runs at a time; a second call waits for the first and then runs. */
  async create(options: CreateBackupOptions = {}): Promise<BackupInfo> {
    while (this.inFlight !== undefined) await this.inFlight.catch(() => {});
    const run = this.run(options);
    this.inFlight = run;
    try {
      return await run;
    } finally {
      this.inFlight = undefined;
    }
  }

  private async run(options: CreateBackupOptions): Promise<BackupInfo> {
    const kind = options.kind ?? 'manual';
    let file: string;
    // Checked before the directory is looked at (no probing of paths outside), and after (symlinks).
    if (options.file !== undefined) {
      file = resolve(options.file);
      this.targets.check(dirname(file));
      await ensureBackupDir(dirname(file), false);
      this.targets.check(dirname(file));
    } else {
      const dir = options.dir === undefined ? this.defaultDir : resolve(options.dir);
      this.targets.check(dir);
      await ensureBackupDir(dir, dir === this.defaultDir);
      this.targets.check(dir);
      file = join(dir, archiveName(`allerac-${kind}`));
    }
    const { archive } = await createArchive(
      { sql: this.components.sql, dataDir: this.init.dataDir, meshKeyFile: this.init.meshKeyFile },
      { passphrase: options.passphrase, kind },
    );
    await writeArchiveFile(file, archive);
    const info = describeArchive(file);
    const last: LastBackup = {
      file,
      bytes: info.bytes,
      at: info.createdAt,
      kind,
      encrypted: info.encrypted,
      location: resolve(file, '..'),
    };
    await writeSetting(this.components.settings, BACKUP_SETTINGS.last, last);
    this.components.logger.info(
      { file, bytes: info.bytes, kind, encrypted: info.encrypted },
      'backup written',
    );
    return info;
  }

  /** Archives in a directory (default `<dataDir>/backups`), newest first. */
  list(dir?: string): BackupInfo[] {
    const target = dir === undefined ? this.defaultDir : resolve(dir);
    this.targets.check(target);
    return listArchives(target);
  }

  /** Sets (or with null, clears) the schedule, persisting it as a setting. */
  async setSchedule(schedule: BackupSchedule | null): Promise<BackupSchedule | null> {
    const valid = schedule === null ? null : validateSchedule(schedule);
    if (valid !== null) {
      this.targets.check(valid.dir);
      await ensureBackupDir(valid.dir, false);
      this.targets.check(valid.dir);
    }
    await writeSetting(this.components.settings, BACKUP_SETTINGS.schedule, valid);
    this.applySchedule(valid);
    return valid;
  }

  /** Status for the dashboard. */
  async status(): Promise<BackupStatus> {
    return {
      last: (await readSetting(this.components.settings, BACKUP_SETTINGS.last)) ?? null,
      schedule: this.schedule,
      nextRun: this.nextRun?.toISOString() ?? null,
      lastError: this.lastError,
      defaultDir: this.defaultDir,
      allowedDirs: this.targets.allowed,
      running: this.inFlight !== undefined,
    };
  }

  /** Runs the scheduled backup if it is due at `now`; exposed so tests need not wait for the clock. */
  async tick(now = new Date()): Promise<BackupInfo | undefined> {
    const schedule = this.schedule;
    if (schedule === null || this.cron === undefined || this.nextRun === undefined || now < this.nextRun) {
      return undefined;
    }
    // A machine that slept through several slots takes one backup, not a burst.
    this.nextRun = nextCronRun(this.cron, now);
    try {
      const passphrase =
        schedule.passphraseFile === undefined
          ? undefined
          : readFileSync(schedule.passphraseFile, 'utf8').trim();
      const info = await this.create({ dir: schedule.dir, passphrase, kind: 'scheduled' });
      const pruned = await pruneArchives(schedule.dir, 'scheduled', schedule.keep);
      if (pruned.length > 0) this.components.logger.info({ pruned }, 'old scheduled backups deleted');
      this.lastError = null;
      return info;
    } catch (error) {
      this.lastError = { at: now.toISOString(), message: (error as Error).message };
      this.components.logger.error({ err: error }, 'scheduled backup failed');
      return undefined;
    }
  }

  private applySchedule(schedule: BackupSchedule | null): void {
    this.schedule = schedule;
    this.cron = schedule === null ? undefined : parseCron(schedule.cron);
    this.nextRun = this.cron === undefined ? undefined : nextCronRun(this.cron, new Date());
  }
}
