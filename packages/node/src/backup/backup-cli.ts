/**
 * `allerac backup ...`. While the node runs it holds the database, so create/export/schedule ask
 * it over the management API; when it is stopped they work on the data dir directly. Restore
 * always needs the node stopped.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { DEFAULTS } from '../config.js';
import { callNode } from '../node-client.js';
import { readSetting, writeSetting } from '../store/settings-keys.js';
import { openStore } from '../store/store.js';
import { type BackupInfo, ensureBackupDir, listArchives } from './backup-files.js';
import { type BackupSchedule, type BackupStatus, validateSchedule } from './backup-service.js';
import { BACKUP_SETTINGS, DEFAULT_BACKUP_SUBDIR, PASSPHRASE_ENV } from './constants.js';
import { BackupError } from './errors.js';
import {
  assertNodeStopped,
  createOfflineBackup,
  type DataLocation,
  restoreArchive,
  verifyArchive,
} from './offline.js';
import { preMigrateBackup } from './pre-migrate.js';
import { findRunningNode } from './runtime-file.js';

interface CommonOptions {
  dataDir: string;
  databaseUrl?: string;
  meshKeyFile?: string;
  passphraseFile?: string;
}

const addCommon = (command: Command, withPassphrase = true): Command => {
  command
    .addOption(
      new Option('--data-dir <dir>', 'the node data dir').env('ALLERAC_DATA_DIR').default(DEFAULTS.dataDir),
    )
    .addOption(
      new Option(
        '--database-url <url>',
        'PostgreSQL URL (env DATABASE_URL too); unset = embedded PGlite',
      ).env('ALLERAC_DATABASE_URL'),
    )
    .addOption(
      new Option('--mesh-key-file <file>', 'the mesh key (default <data-dir>/mesh.key)').env(
        'ALLERAC_MESH_KEY_FILE',
      ),
    );
  if (withPassphrase) {
    command.addOption(
      new Option(
        '--passphrase-file <file>',
        `encrypt/decrypt with the passphrase in this file (or set ${PASSPHRASE_ENV})`,
      ),
    );
  }
  return command;
};

function location(options: CommonOptions): DataLocation {
  const dataDir = resolve(options.dataDir);
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL;
  return {
    dataDir,
    databaseUrl: databaseUrl === '' ? undefined : databaseUrl,
    meshKeyFile: resolve(options.meshKeyFile ?? join(dataDir, 'mesh.key')),
  };
}

function passphrase(options: CommonOptions): string | undefined {
  if (options.passphraseFile !== undefined) {
    const text = readFileSync(options.passphraseFile, 'utf8').replace(/\r?\n$/, '');
    if (text === '') throw new BackupError(`the passphrase file ${options.passphraseFile} is empty`);
    return text;
  }
  const env = process.env[PASSPHRASE_ENV];
  return env === undefined || env === '' ? undefined : env;
}

const human = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

function printInfo(info: BackupInfo): void {
  console.log(
    `${info.file}\n  ${human(info.bytes)}, ${info.kind}, ${info.encrypted ? 'encrypted (includes the mesh key)' : 'not encrypted (no mesh key)'}, schema ${info.schemaVersion}, taken ${info.createdAt}`,
  );
}

async function create(options: CommonOptions & { dir?: string; file?: string }, kind: 'manual' | 'export') {
  const where = location(options);
  const secret = passphrase(options);
  const node = findRunningNode(where.dataDir);
  const dir = options.dir === undefined ? undefined : resolve(options.dir);
  const file = options.file === undefined ? undefined : resolve(options.file);
  const info =
    node === undefined
      ? await createOfflineBackup(where, { dir, file, passphrase: secret, kind })
      : await callNode<BackupInfo>(where.dataDir, node, 'POST', '/allerac/v1/backups', {
          dir,
          file,
          passphrase: secret,
          kind,
        });
  printInfo(info);
  if (!info.encrypted)
    console.log('  (give --passphrase-file to encrypt; only encrypted archives carry the mesh key)');
}

/** Registers `backup` and its subcommands on the program. */
export function registerBackupCommands(program: Command): void {
  const backup = program
    .command('backup')
    .description('back up, verify and restore this node: settings, accounts, tokens, conversations, memories')
    .addHelpText(
      'after',
      '\nArchives are described in docs/backup-format.md. While the node runs, create/export/schedule go\n' +
        'through its management API; restore needs the node stopped.',
    );

  addCommon(
    backup
      .command('create')
      .description('take a backup now, into <data-dir>/backups or --dir (e.g. a USB drive)')
      .option('--dir <dir>', 'target directory; must exist and be writable'),
  ).action((options) => create(options, 'manual'));

  addCommon(
    backup.command('export <file>').description('write a backup to exactly this file, to move it elsewhere'),
  ).action((file: string, options) => create({ ...options, file }, 'export'));

  addCommon(
    backup
      .command('list')
      .description('list the archives in <data-dir>/backups or --dir')
      .option('--dir <dir>', 'directory to list'),
    false,
  ).action((options: CommonOptions & { dir?: string }) => {
    const dir = resolve(options.dir ?? join(location(options).dataDir, DEFAULT_BACKUP_SUBDIR));
    const list = listArchives(dir);
    if (list.length === 0) console.log(`no archives in ${dir}`);
    for (const info of list) {
      printInfo(info);
      if (!info.intact) console.log(`  DAMAGED: ${info.error}`);
    }
  });

  addCommon(
    backup
      .command('verify <file>')
      .description(
        'check an archive: checksums, decryption, and a full restore into a scratch store compared table by table',
      ),
  ).action(async (file: string, options: CommonOptions) => {
    const report = await verifyArchive(readFileSync(file), passphrase(options));
    console.log(
      `OK ${file}: schema ${report.schemaVersion}, ${report.encrypted ? 'encrypted' : 'not encrypted'}, taken ${report.createdAt}`,
    );
    for (const table of report.tables)
      console.log(`  ${table.name}: ${table.rows} rows, identical after restore`);
    for (const name of report.files) console.log(`  file ${name}`);
  });

  addCommon(
    backup
      .command('restore <file>')
      .description(
        "replace this node's data with an archive (the node must be stopped; the current data is saved first)",
      ),
  ).action(async (file: string, options: CommonOptions) => {
    const where = location(options);
    assertNodeStopped(where.dataDir, 'restore');
    const report = await restoreArchive(readFileSync(file), where, { passphrase: passphrase(options) });
    if (report.safetyBackup !== undefined)
      console.log(`the data it replaced is saved in ${report.safetyBackup}`);
    for (const [table, rows] of Object.entries(report.rows)) console.log(`  ${table}: ${rows} rows`);
    for (const path of report.files) console.log(`  wrote ${path}`);
    if (report.skipped.length > 0)
      console.log(`  skipped (not in this schema): ${report.skipped.join(', ')}`);
    console.log(
      `restored at schema ${report.migratedTo}. Start the node; memories are re-embedded in the background.`,
    );
  });

  addCommon(
    backup
      .command('import <file>')
      .description('verify an archive from elsewhere and copy it into <data-dir>/backups (or --dir)')
      .option('--dir <dir>', 'target directory'),
  ).action(async (file: string, options: CommonOptions & { dir?: string }) => {
    const report = await verifyArchive(readFileSync(file), passphrase(options));
    const dir = resolve(options.dir ?? join(location(options).dataDir, DEFAULT_BACKUP_SUBDIR));
    await ensureBackupDir(dir, options.dir === undefined);
    const target = join(dir, basename(file));
    if (existsSync(target) && resolve(file) !== target) throw new BackupError(`${target} exists already`);
    if (resolve(file) !== target) copyFileSync(file, target);
    console.log(
      `imported ${target} (verified: ${report.tables.length} tables). Restore it with: allerac backup restore ${target}`,
    );
  });

  addCommon(
    backup
      .command('schedule')
      .description(
        'show or set the backup schedule the node runs, e.g. --cron "0 3 * * *" --keep 7 --dir /media/usb/allerac',
      )
      .option('--cron <expr>', 'five-field cron expression, local time')
      .option('--keep <n>', 'how many scheduled archives to keep', '7')
      .option('--dir <dir>', 'target directory (e.g. a USB drive mount point)')
      .option('--off', 'turn scheduled backups off'),
  ).action(async (options: CommonOptions & { cron?: string; keep: string; dir?: string; off?: boolean }) => {
    const where = location(options);
    let schedule: BackupSchedule | null | undefined;
    if (options.off) schedule = null;
    else if (options.cron !== undefined) {
      if (options.dir === undefined) throw new BackupError('--dir is required with --cron');
      schedule = validateSchedule({
        cron: options.cron,
        keep: Number(options.keep),
        dir: options.dir,
        ...(options.passphraseFile ? { passphraseFile: options.passphraseFile } : {}),
      });
      await ensureBackupDir(schedule.dir, false);
    }
    const node = findRunningNode(where.dataDir);
    if (node !== undefined) {
      const path = '/allerac/v1/backups/schedule';
      const status =
        schedule === undefined
          ? await callNode<BackupStatus>(where.dataDir, node, 'GET', '/allerac/v1/backups/status')
          : schedule === null
            ? await callNode<BackupStatus>(where.dataDir, node, 'DELETE', path)
            : await callNode<BackupStatus>(where.dataDir, node, 'PUT', path, schedule);
      console.log(
        JSON.stringify({ schedule: status.schedule, nextRun: status.nextRun, last: status.last }, null, 2),
      );
      return;
    }
    const store = await openStore({
      databaseUrl: where.databaseUrl,
      dataDir: where.dataDir,
      beforeMigrate: preMigrateBackup(where.dataDir),
    });
    try {
      if (schedule !== undefined) await writeSetting(store.settings, BACKUP_SETTINGS.schedule, schedule);
      const current = (await readSetting(store.settings, BACKUP_SETTINGS.schedule)) ?? null;
      console.log(JSON.stringify({ schedule: current, note: 'the node runs it once started' }, null, 2));
    } finally {
      await store.close();
    }
  });
}
