/**
 * `allerac device add NAME`, `allerac device list` and `allerac device revoke ID`: device keys for
 * clients that cannot send a bearer token. A key is issued by the running node, which knows the
 * address other machines reach it at and so prints the ready base URLs.
 */
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { findRunningNode } from '../backup/runtime-file.js';
import { DEFAULTS } from '../config.js';
import type { IssuedToken, IssueTokenBody } from '../contract/account.js';
import { callNode } from '../node-client.js';
import { listTokens, revokeToken } from './token-cli.js';
import { resolveExpiry } from './token-lifetime.js';

/** Device keys are issued by the running node only; this data dir has none. */
export class NodeNotRunningError extends Error {
  override name = 'NodeNotRunningError';
}

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'the node data dir').env('ALLERAC_DATA_DIR').default(DEFAULTS.dataDir);

/** Asks the node of `dataDir` for a device key. */
export async function addDevice(
  dataDir: string,
  body: Pick<IssueTokenBody, 'name' | 'role' | 'expiresIn'>,
): Promise<IssuedToken> {
  const dir = resolve(dataDir);
  const node = findRunningNode(dir);
  if (node === undefined)
    throw new NodeNotRunningError(
      `no node is running on ${dir}; start it (allerac start) and add the device again`,
    );
  return callNode<IssuedToken>(dir, node, 'POST', '/allerac/v1/tokens', { ...body, device: true });
}

/** What `device add` prints: the key once, and where to paste it. */
export function describeIssuedDevice(issued: IssuedToken): string {
  const life = issued.expiresAt === null ? 'never expires' : `expires ${issued.expiresAt}`;
  const lines = [
    `device key "${issued.name}" (${issued.role}, ${life}), shown this once:`,
    `  key:            ${issued.token}`,
    `  Ollama clients: ${issued.baseUrls?.ollama ?? ''}   (OLLAMA_HOST, Open WebUI, Home Assistant)`,
    `  OpenAI clients: ${issued.baseUrls?.openai ?? ''}   (baseURL of the SDKs)`,
  ];
  if (issued.reachableFromLan === false)
    lines.push(
      'note: this node listens on this machine only; start it with --http-host 0.0.0.0 so other machines can reach it',
    );
  return lines.join('\n');
}

/** Registers `device` and its subcommands on the program. */
export function registerDeviceCommands(program: Command): void {
  const device = program
    .command('device')
    .description('device keys for clients that cannot send a token: the key goes in the base URL (/k/<key>)');

  device
    .command('add <name>')
    .description('issue a device key on the running node and print its base URLs')
    .addOption(dataDirOption())
    .addOption(
      new Option('--role <role>', 'member (chat) or admin (also pulls and deletes models)')
        .choices(['member', 'admin'])
        .default('member'),
    )
    .option('--expires <duration>', 'how long the key lives, e.g. 90d or 2w (default: until revoked)')
    .option('--json', 'print JSON')
    .action(
      async (
        name: string,
        options: { dataDir: string; role: 'member' | 'admin'; expires?: string; json?: boolean },
      ) => {
        // Checked here too, so a typo fails before the node is asked.
        if (options.expires !== undefined) resolveExpiry({ expiresIn: options.expires });
        const issued = await addDevice(options.dataDir, {
          name,
          role: options.role,
          ...(options.expires === undefined ? {} : { expiresIn: options.expires }),
        });
        console.log(options.json ? JSON.stringify(issued, null, 2) : describeIssuedDevice(issued));
      },
    );

  device
    .command('list')
    .description("list the node's device keys with their state (never the keys themselves)")
    .addOption(dataDirOption())
    .option('--json', 'print JSON')
    .action(async (options: { dataDir: string; json?: boolean }) => {
      const devices = (await listTokens(options)).filter((token) => token.device);
      if (options.json) {
        console.log(JSON.stringify(devices, null, 2));
        return;
      }
      if (devices.length === 0) console.log('no device keys');
      for (const d of devices) {
        const last = d.lastUsedAt === null ? 'never used' : `last used ${d.lastUsedAt}`;
        console.log(`${d.id}  ${d.role}  ${d.name}  created ${d.createdAt}, ${last}, ${d.state}`);
      }
    });

  device
    .command('revoke <id>')
    .description('revoke a device key by its id (from `allerac device list`); it stops working at once')
    .addOption(dataDirOption())
    .action(async (id: string, options: { dataDir: string }) => {
      await revokeToken(options, id);
      console.log(`revoked ${id}`);
    });
}
