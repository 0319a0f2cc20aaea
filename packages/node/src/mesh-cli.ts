import { resolve } from 'node:path';
import { formatPeersTable } from '@allerac/mesh';
import { type Command, Option } from 'commander';
import { renderUnicodeCompact } from 'uqr';
import { findRunningNode } from './backup/runtime-file.js';
import { DEFAULTS } from './config.js';
import type { PairingInvitation } from './contract/management.js';
import type { PeerSummary } from './mesh-runtime.js';
import { callNode } from './node-client.js';

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'the node data dir').env('ALLERAC_DATA_DIR').default(DEFAULTS.dataDir);

function runningNode(dataDir: string) {
  const node = findRunningNode(resolve(dataDir));
  if (node === undefined) {
    throw new Error(
      `no running node holds ${resolve(dataDir)}; start it with \`allerac start --data-dir ${dataDir}\``,
    );
  }
  return node;
}

/** `allerac pair` and `allerac peers [remove ID]`. */
export function registerMeshCommands(program: Command): void {
  program
    .command('pair')
    .description(
      'ask the running node for an invitation: a code (and QR code) valid 10 minutes for one machine, which joins with `allerac start --join CODE` or "Join a home" on its Agents page',
    )
    .addOption(dataDirOption())
    .option('--json', 'print the invitation as JSON')
    .option('--no-qr', 'print no QR code')
    .action(async (options: { dataDir: string; json?: boolean; qr: boolean }) => {
      const node = runningNode(options.dataDir);
      const invitation = await callNode<PairingInvitation>(
        resolve(options.dataDir),
        node,
        'POST',
        '/allerac/v1/pairing/invitations',
        {},
      );
      if (options.json === true) {
        console.log(JSON.stringify(invitation, null, 2));
        return;
      }
      // The code comes first and alone on its line, for scripts: `allerac pair | head -1`.
      console.log(invitation.code);
      if (options.qr) console.log(`\n${renderUnicodeCompact(invitation.code, { border: 1 })}`);
      const until = new Date(invitation.expiresAt).toLocaleTimeString([], {
        hour: '2-digit',
        minute: '2-digit',
      });
      console.log(
        `\nValid for one machine until ${until} (${Math.round(invitation.ttlSeconds / 60)} minutes). On it, run\n  allerac start --join ${invitation.code}\nor enter the code under "Join a home" on its Agents page.`,
      );
    });

  const peers = program
    .command('peers')
    .description('list the peers the running node sees')
    .addOption(dataDirOption())
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { dataDir: string; json?: boolean }) => {
      const node = runningNode(options.dataDir);
      const list = await callNode<PeerSummary[]>(resolve(options.dataDir), node, 'GET', '/allerac/v1/peers');
      if (options.json === true) {
        console.log(JSON.stringify(list, null, 2));
        return;
      }
      console.log(list.length === 0 ? 'no peers yet' : formatPeersTable(list.map(toView)));
    });

  peers
    .command('remove <id>')
    .description('remove a node from the home: block it and rotate the mesh key across the others')
    .addOption(dataDirOption())
    .action(async (id: string, options: { dataDir: string }) => {
      const node = runningNode(options.dataDir);
      const result = await callNode<{ removed: string; name: string }>(
        resolve(options.dataDir),
        node,
        'DELETE',
        `/allerac/v1/peers/${encodeURIComponent(id)}`,
      );
      console.log(`removed ${result.name} (${result.removed}); the mesh key was rotated`);
    });
}

/** The table formatter takes mesh peer views; rebuild the fields it prints from the API summary. */
function toView(peer: PeerSummary): Parameters<typeof formatPeersTable>[0][number] {
  return {
    id: peer.id,
    name: peer.name,
    nameClash: peer.nameClash,
    status: peer.status,
    lastSeen: Date.parse(peer.lastSeen),
    addresses: peer.addresses,
    ...(peer.rttMs !== null ? { rttMs: peer.rttMs } : {}),
    card: {
      name: peer.name,
      peerId: peer.id,
      softwareVersion: peer.version,
      protocolVersion: '',
      hardware: peer.hardware,
      backend: peer.backend,
      models: peer.models.map((name) => ({
        name,
        sizeBytes: 0,
        family: '',
        parameterSize: '',
        quantization: '',
        loaded: peer.loadedModels.includes(name),
      })),
      load: peer.load,
      specializations: peer.specializations,
      issuedAt: Date.parse(peer.lastSeen),
      seq: 0,
    },
  };
}
