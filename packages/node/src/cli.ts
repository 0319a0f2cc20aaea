#!/usr/bin/env node
/**
 * `allerac`: the node's command line. Every `start` flag has an ALLERAC_* environment twin.
 */
import { Command, Option } from 'commander';
import { registerAdminCommands } from './admin-cli.js';
import { registerDeviceCommands } from './auth/device-cli.js';
import { registerTokenCommands } from './auth/token-cli.js';
import { registerBackupCommands } from './backup/backup-cli.js';
import { ConfigError, DEFAULTS, type RawStartOptions, resolveStartConfig } from './config.js';
import { type RunningNode, SHUTDOWN_GRACE_MS, startNode } from './daemon.js';
import { registerDocumentCommands } from './documents/document-cli.js';
import { resolveLogFormat } from './logger.js';
import { registerMemoryCommands } from './memory/memory-cli.js';
import { registerMeshCommands } from './mesh-cli.js';
import { registerModelCommands } from './models/home-models-cli.js';
import { explainPortClash } from './port-clash.js';
import { installProcessGuard } from './process-guard.js';
import { installShutdownSignals } from './shutdown-signals.js';
import { formatStartBanner } from './start-banner.js';
import { PRIVATE_UMASK } from './store/file-modes.js';
import { registerUpdateCommands } from './update/update-cli.js';
import { SOFTWARE_VERSION } from './version.js';

// Whatever a command writes into a data dir (tokens, a restored database) is its owner's alone.
process.umask(PRIVATE_UMASK);

const program = new Command('allerac')
  .description('Allerac: a private AI agent for the home. One node per machine; nodes on a LAN form a mesh.')
  .version(SOFTWARE_VERSION)
  .showHelpAfterError();

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'where the node keeps its data')
    .env('ALLERAC_DATA_DIR')
    .default(DEFAULTS.dataDir);

program
  .command('start')
  .description('run a node: HTTP API and web UI, mesh, store')
  .addOption(
    new Option('--name <name>', 'the agent name shown to peers (default: hostname)').env('ALLERAC_NAME'),
  )
  .addOption(
    new Option('--http-port <port>', 'HTTP port').env('ALLERAC_HTTP_PORT').default(String(DEFAULTS.httpPort)),
  )
  .addOption(
    // No commander default: an unset host lets Settings' "serve the home network" choose.
    new Option(
      '--http-host <host>',
      `HTTP listen address (default ${DEFAULTS.httpHost}, or 0.0.0.0 when Settings serve the home network)`,
    ).env('ALLERAC_HTTP_HOST'),
  )
  .addOption(
    new Option('--p2p-port <port>', 'libp2p TCP port (0 for any)')
      .env('ALLERAC_P2P_PORT')
      .default(String(DEFAULTS.p2pPort)),
  )
  .addOption(dataDirOption())
  .addOption(
    new Option(
      '--ollama-url <url>',
      `Ollama base URL (env OLLAMA_HOST too; default ${DEFAULTS.ollamaUrl})`,
    ).env('ALLERAC_OLLAMA_URL'),
  )
  .addOption(
    new Option(
      '--database-url <url>',
      'PostgreSQL URL (env DATABASE_URL too); unset = embedded PGlite in the data dir',
    ).env('ALLERAC_DATABASE_URL'),
  )
  .addOption(
    new Option('--mesh-key-file <file>', 'mesh key; created when missing (default <data-dir>/mesh.key)').env(
      'ALLERAC_MESH_KEY_FILE',
    ),
  )
  .addOption(
    new Option(
      '--ollama-models-dir <dir>',
      "the local Ollama's models directory, shared with peers (default: OLLAMA_MODELS, else Ollama's own)",
    ).env('ALLERAC_OLLAMA_MODELS_DIR'),
  )
  .addOption(
    new Option('--join <code>', 'join an existing home mesh with a code from `allerac pair`').env(
      'ALLERAC_JOIN',
    ),
  )
  .addOption(
    new Option(
      '--specializations <list>',
      'what this agent is for, comma-separated: code, research, creative, home',
    ).env('ALLERAC_SPECIALIZATIONS'),
  )
  .addOption(
    new Option(
      '--backup-dirs <list>',
      'directories the node may write backups into besides <data-dir>/backups, comma-separated',
    ).env('ALLERAC_BACKUP_DIRS'),
  )
  .addOption(
    new Option('--log-level <level>', 'log level')
      .env('ALLERAC_LOG_LEVEL')
      .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
      .default(DEFAULTS.logLevel),
  )
  .action(async (options: RawStartOptions) => {
    const config = resolveStartConfig(options);
    // A wrong ALLERAC_LOG_FORMAT fails here, before anything opens.
    resolveLogFormat();
    let setupCode: string | undefined;
    let node: RunningNode;
    try {
      node = await startNode(config, {
        // Shown in the banner below, for the person at the terminal; never written to the log.
        onSetupCode: (code) => {
          setupCode = code;
        },
      });
    } catch (error) {
      throw (await explainPortClash(error, config)) ?? error;
    }
    installProcessGuard(node.logger);
    installShutdownSignals(node, { graceMs: SHUTDOWN_GRACE_MS });
    process.stderr.write(
      formatStartBanner({ name: node.config.name, url: node.url, setupCode, httpHost: node.config.httpHost }),
    );
  });

registerTokenCommands(program);
registerDeviceCommands(program);
registerBackupCommands(program);
registerMemoryCommands(program);
registerDocumentCommands(program);
registerMeshCommands(program);
registerModelCommands(program);
registerUpdateCommands(program);
registerAdminCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`allerac: ${error.message}`);
    process.exit(2);
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`allerac: ${message}`);
  process.exit(1);
}
