/**
 * `allerac update ...`: opt-in checks, apply with automatic rollback, manual rollback. Settings
 * go through the running node's management API, or straight to the store when it is stopped.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, Option } from 'commander';
import { preMigrateBackup } from '../backup/pre-migrate.js';
import { findRunningNode } from '../backup/runtime-file.js';
import { DEFAULTS } from '../config.js';
import { callNode } from '../node-client.js';
import { writeSetting } from '../store/settings-keys.js';
import { openStore } from '../store/store.js';
import { SOFTWARE_VERSION } from '../version.js';
import { requireInstallLayout } from './install-layout.js';
import { commandServiceControl, defaultServiceControl, parseServiceCommand } from './service-control.js';
import {
  checkForUpdate,
  readUpdateSettings,
  UPDATE_SETTINGS,
  type UpdateCheck,
  type UpdateSettings,
  type UpdateSource,
  validateSource,
} from './update-source.js';
import { Updater } from './updater.js';

interface Common {
  dataDir: string;
  databaseUrl?: string;
  prefix?: string;
}

const here = dirname(fileURLToPath(import.meta.url));

const common = (command: Command): Command =>
  command
    .addOption(
      new Option('--data-dir <dir>', 'the node data dir').env('ALLERAC_DATA_DIR').default(DEFAULTS.dataDir),
    )
    .addOption(
      new Option('--database-url <url>', 'PostgreSQL URL (env DATABASE_URL too)').env('ALLERAC_DATABASE_URL'),
    )
    .addOption(
      new Option('--prefix <dir>', 'the native install prefix (default: the one this allerac runs from)').env(
        'ALLERAC_PREFIX',
      ),
    );

/** Reads or changes the update settings, through the node when it runs. */
async function settings(
  options: Common,
  change?: { enabled?: boolean; source?: UpdateSource },
): Promise<UpdateSettings> {
  const dataDir = resolve(options.dataDir);
  const node = findRunningNode(dataDir);
  if (node !== undefined) {
    if (change !== undefined) return callNode(dataDir, node, 'PUT', '/allerac/v1/update/settings', change);
    const status = await callNode<UpdateSettings>(dataDir, node, 'GET', '/allerac/v1/update/status');
    return { enabled: status.enabled, source: status.source };
  }
  const store = await openStore({
    databaseUrl: options.databaseUrl ?? process.env.DATABASE_URL,
    dataDir,
    beforeMigrate: preMigrateBackup(dataDir),
  });
  try {
    if (change?.enabled !== undefined)
      await writeSetting(store.settings, UPDATE_SETTINGS.enabled, change.enabled);
    if (change?.source !== undefined)
      await writeSetting(store.settings, UPDATE_SETTINGS.source, change.source);
    return await readUpdateSettings(store.settings);
  } finally {
    await store.close();
  }
}

function updaterFor(
  options: Common & { healthUrl?: string; deadline?: string; restartCmd?: string; stopCmd?: string },
) {
  const layout = requireInstallLayout(here, options.prefix);
  const dataDir = resolve(options.dataDir);
  const node = findRunningNode(dataDir);
  const port = process.env.ALLERAC_HTTP_PORT ?? String(DEFAULTS.httpPort);
  const healthUrl = options.healthUrl ?? `${node?.url ?? `http://127.0.0.1:${port}`}/health`;
  const service =
    options.restartCmd !== undefined
      ? commandServiceControl(
          parseServiceCommand(options.restartCmd),
          parseServiceCommand(options.stopCmd ?? options.restartCmd),
        )
      : defaultServiceControl(layout.prefix);
  const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL;
  return new Updater(
    {
      layout,
      data: {
        dataDir,
        databaseUrl: databaseUrl === '' ? undefined : databaseUrl,
        meshKeyFile: resolve(process.env.ALLERAC_MESH_KEY_FILE ?? join(dataDir, 'mesh.key')),
      },
      healthUrl,
      healthDeadlineMs: Number(options.deadline ?? '120') * 1000,
    },
    { service, log: (message) => console.log(`  ${message}`) },
  );
}

const withApply = (command: Command): Command =>
  common(command)
    .option(
      '--health-url <url>',
      'the /health URL to check (default: the running node, else 127.0.0.1:$ALLERAC_HTTP_PORT)',
    )
    .option('--deadline <seconds>', 'how long the new version has to become healthy', '120')
    .option(
      '--restart-cmd <cmd>',
      'restart command, quoted like a shell command line but run without one (default <prefix>/bin/allerac-service restart, else systemctl)',
    )
    .option('--stop-cmd <cmd>', 'stop command matching --restart-cmd');

/** Registers `update` and its subcommands on the program. */
export function registerUpdateCommands(program: Command): void {
  const update = program
    .command('update')
    .description('check for, apply and roll back updates (checks are off until you enable them)')
    .addHelpText('after', '\nSee docs/updates.md. Docker installs update by changing the pinned image tag.');

  common(update.command('enable').description('allow update checks, optionally choosing where they look'))
    .option('--url <manifest>', 'a release manifest URL: JSON {version, tarball, sha256}')
    .option('--npm <package>', 'an npm package name (default @allerac/node)')
    .option('--registry <url>', 'the npm registry to ask')
    .action(async (options: Common & { url?: string; npm?: string; registry?: string }) => {
      const source =
        options.url !== undefined
          ? validateSource({ kind: 'url', url: options.url })
          : options.npm !== undefined || options.registry !== undefined
            ? validateSource({
                kind: 'npm',
                package: options.npm ?? '@allerac/node',
                registry: options.registry,
              })
            : undefined;
      console.log(
        JSON.stringify(await settings(options, { enabled: true, ...(source ? { source } : {}) }), null, 2),
      );
    });

  common(update.command('disable').description('turn update checks off (the default)')).action(
    async (options: Common) => {
      console.log(JSON.stringify(await settings(options, { enabled: false }), null, 2));
    },
  );

  common(
    update.command('check').description('ask the configured source for a newer version (only when enabled)'),
  ).action(async (options: Common) => {
    const check: UpdateCheck = await checkForUpdate(await settings(options), SOFTWARE_VERSION);
    console.log(
      check.available
        ? `update available: ${check.current} -> ${check.latest.version} (apply with: allerac update apply)`
        : `up to date: ${check.current} (latest ${check.latest.version})`,
    );
    try {
      updaterFor(options).recordCheck(check);
    } catch {
      // not a native install: nothing to record
    }
  });

  withApply(
    update
      .command('apply')
      .description(
        'install the latest (or --tarball) beside this version, switch, check health; rolls back by itself on failure',
      )
      .option('--tarball <file>', 'a package tarball (npm pack output) instead of the configured source'),
  ).action(async (options: Common & { tarball?: string }) => {
    const updater = updaterFor(options);
    let tarball = options.tarball === undefined ? undefined : resolve(options.tarball);
    if (tarball === undefined) {
      const check = await checkForUpdate(await settings(options), SOFTWARE_VERSION);
      updater.recordCheck(check);
      if (!check.available) {
        console.log(`up to date: ${check.current}`);
        return;
      }
      console.log(`downloading ${check.latest.version}`);
      tarball = await updater.download(check.latest);
    }
    const outcome = await updater.apply(tarball);
    console.log(
      `updated ${outcome.from ?? '(none)'} -> ${outcome.to}; healthy. Undo with: allerac update rollback`,
    );
  });

  withApply(
    update
      .command('rollback')
      .description('switch back to the previous version')
      .option('--to <version>', 'a specific installed version'),
  ).action(async (options: Common & { to?: string }) => {
    const outcome = await updaterFor(options).rollback(options.to);
    console.log(`rolled back ${outcome.from} -> ${outcome.to}; healthy`);
  });

  common(update.command('status').description('versions installed, the current one, and the history')).action(
    (options: Common) => {
      const updater = updaterFor(options);
      const layout = requireInstallLayout(here, options.prefix);
      console.log(
        JSON.stringify(
          { current: layout.currentVersion(), versions: layout.versions(), ...updater.state() },
          null,
          2,
        ),
      );
    },
  );
}
