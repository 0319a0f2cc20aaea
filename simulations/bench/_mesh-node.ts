/**
 * One mesh node in its own process for the mesh benchmark (a trimmed twin of the node package's
 * test fixture, built on @allerac/node's public `createMesh`). Config arrives as one JSON argument;
 * commands on stdin and events and replies on stdout, one JSON object a line.
 */
import { createInterface } from 'node:readline';
import { createMesh, type LocalCardState } from '@allerac/node';
import { pino } from 'pino';

const config = JSON.parse(process.argv[2] ?? '{}') as { name: string; dataDir: string; meshKeyFile: string };
const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
const local: LocalCardState = {
  backend: { state: 'up', url: 'http://127.0.0.1:11434', version: '0.0.0-bench' },
  models: [],
  load: { activeTasks: 0, queueDepth: 0, slots: 2, tokensPerSecond: {} },
};
const mesh = createMesh(
  {
    name: config.name,
    dataDir: config.dataDir,
    meshKeyFile: config.meshKeyFile,
    listenHost: '127.0.0.1',
    p2pPort: 0,
    specializations: [],
    softwareVersion: '0.1.0-bench',
    mdnsIntervalMs: 1_000,
  },
  { logger: pino({ level: 'warn' }, pino.destination(2)), cardSource: async () => structuredClone(local) },
);
for (const event of ['peer:join', 'peer:update', 'peer:leave'] as const) {
  mesh.addEventListener(event, ({ detail }) => out({ event, at: Date.now(), peer: detail.id }));
}
const startedAt = Date.now();
await mesh.start();
out({ event: 'ready', at: Date.now(), startedAt, peerId: mesh.peerId });

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as { id: number; cmd: string; activeTasks?: number };
  if (command.cmd === 'set-load') {
    local.load.activeTasks = Number(command.activeTasks);
    mesh.cardChanged();
    out({ reply: command.id, result: Date.now() });
  }
});
