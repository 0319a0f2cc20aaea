/**
 * What every CLI command that talks to a running node shares: how to find it (`--data-dir`,
 * `--url`, `--token`), `--json` output, and repeatable options.
 */
import { type Command, Option } from 'commander';
import { DEFAULTS } from './config.js';
import { connectNode, type NodeClient } from './node-client.js';

/** The connection and output options as commander parses them. */
export interface ConnectionOptions {
  url?: string;
  token?: string;
  dataDir: string;
  json?: boolean;
}

/** Adds the connection options and `--json` to `command`. */
export function withConnectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--data-dir <dir>', 'the node data dir: finds the running node and its CLI token')
        .env('ALLERAC_DATA_DIR')
        .default(DEFAULTS.dataDir),
    )
    .addOption(
      new Option('--url <url>', "the node's URL (default: the one running on --data-dir)").env('ALLERAC_URL'),
    )
    .addOption(
      new Option('--token <token>', 'an API token (default: the data dir’s CLI token)').env('ALLERAC_TOKEN'),
    )
    .option('--json', 'print JSON');
}

/** A client of the node the options name; `timeoutMs` bounds each call. */
export function connectFromOptions(options: ConnectionOptions, timeoutMs: number): NodeClient {
  return connectNode({ dataDir: options.dataDir, url: options.url, token: options.token, timeoutMs });
}

/** Prints `value` as JSON with `--json`, else the human line(s). */
export function printResult(options: ConnectionOptions, value: unknown, human: () => string): void {
  console.log(options.json === true ? JSON.stringify(value, null, 2) : human());
}

/** Commander's collector for an option given several times. */
export const collectRepeated = (value: string, previous: string[] = []): string[] => [...previous, value];
