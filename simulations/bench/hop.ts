/**
 * `npm run bench -- hop`: one mesh hop against a local call and against ollama-sim directly, side
 * by side in one run. Node B (bob) has the model; node A (alice) has none, so every request to A is
 * served by B over libp2p. Requests alternate between the sim, B, and A relayed to B.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { comparePaths, simArgs, TOP_MODEL } from './_compare.js';
import { NODE_CLI, startFloorProxy, startNodeProcess, startSimProcess, stop } from './_processes.js';
import { report } from './_report.js';

const simB = await startSimProcess(simArgs());
const simA = await startSimProcess(['--profile', 'fast', '--models', 'all-minilm:latest']);
const b = await startNodeProcess(simB.url, ['--name', 'bob']);
const token = execFileSync(process.execPath, [NODE_CLI, 'token', '--data-dir', b.dataDir], {
  encoding: 'utf8',
}).trim();
const card = (await (
  await fetch(`${b.url}/allerac/v1/node`, { headers: { authorization: `Bearer ${token}` } })
).json()) as {
  addresses: string[];
};
const a = await startNodeProcess(
  simA.url,
  ['--name', 'alice', '--mesh-key-file', join(b.dataDir, 'mesh.key')],
  {
    ALLERAC_BOOTSTRAP: card.addresses.join(','),
  },
);
// The floor of one more Node.js process in front of B that reads the answer (_floor-proxy.ts),
// with no mesh: what the hop costs beyond it is the mesh's and the nodes' own.
const floor = await startFloorProxy('parse', b.url);
try {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const tags = (await (await fetch(`${a.url}/api/tags`)).json()) as { models?: Array<{ name: string }> };
    if (tags.models?.some((m) => m.name === TOP_MODEL)) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const { rows, raw } = await comparePaths({
    paths: [
      { name: 'direct', url: simB.url },
      { name: 'local (B)', url: b.url },
      { name: 'floor: parsing proxy → B', url: floor.url },
      { name: 'one hop (A → B)', url: a.url },
    ],
    baseline: 'local (B)',
    subject: 'one hop (A → B)',
    pids: {
      sim: simB.child.pid!,
      'floor proxy': floor.child.pid!,
      'entry (A)': a.child.pid!,
      'serving (B)': b.child.pid!,
    },
    cpuOf: [
      { label: 'floor proxy', paths: ['floor: parsing proxy → B'] },
      { label: 'entry (A)', paths: ['one hop (A → B)'] },
      { label: 'serving (B)', paths: ['one hop (A → B)', 'local (B)'] },
    ],
    ttftTarget: '≤ +1.0 ms',
  });
  report('hop', rows, { command: 'npm run bench -- hop', ...raw });
} finally {
  await stop(floor.child);
  await stop(a.child);
  await stop(b.child);
  await stop(simA.child);
  await stop(simB.child);
  rmSync(a.dataDir, { recursive: true, force: true });
  rmSync(b.dataDir, { recursive: true, force: true });
}
