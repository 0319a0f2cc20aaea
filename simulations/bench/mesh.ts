/**
 * Mesh benchmark (`npm run bench -- mesh [trials]`): real processes and real mDNS inside a
 * throwaway network namespace (needs root). Per trial a new node joins an existing one (alice):
 * join time is from the new node's `mesh.start()` to alice's `peer:join`; card propagation from a
 * load change to alice's `peer:update`; leave detection from SIGKILL to alice's `peer:leave`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetns, MeshProcess, netnsUnavailableReason } from './_mesh-harness.js';
import { percentile, report } from './_report.js';

const trials = Number(process.argv[2] ?? 20);
const reason = netnsUnavailableReason();
if (reason !== undefined) {
  console.error(`mesh benchmark skipped: ${reason}`);
  process.exit(1);
}

const ns = createNetns();
const tmp = mkdtempSync(join(tmpdir(), 'allerac-bench-mesh-'));
const procs: MeshProcess[] = [];
const join_: number[] = [];
const leave: number[] = [];
const update: number[] = [];
try {
  const keyFile = join(tmp, 'mesh.key');
  const alice = new MeshProcess(ns.name, {
    name: 'alice',
    dataDir: join(tmp, 'alice'),
    meshKeyFile: keyFile,
  });
  procs.push(alice);
  await alice.ready();
  for (let i = 0; i < trials; i++) {
    const name = `node-${i}`;
    mkdirSync(join(tmp, name), { recursive: true });
    copyFileSync(keyFile, join(tmp, name, 'mesh.key'));
    const node = new MeshProcess(ns.name, {
      name,
      dataDir: join(tmp, name),
      meshKeyFile: join(tmp, name, 'mesh.key'),
    });
    procs.push(node);
    const ready = await node.ready();
    const joined = await alice.waitFor(
      (l) => l.event === 'peer:join' && l.peer === node.peerId,
      15_000,
      'join',
    );
    join_.push(Number(joined.at) - Number(ready.startedAt));

    await new Promise((r) => setTimeout(r, 1_100)); // past the one-update-per-second throttle
    const setAt = await node.request<number>('set-load', { activeTasks: i + 1 });
    const updated = await alice.waitFor(
      (l) => l.event === 'peer:update' && l.peer === node.peerId && Number(l.at) >= setAt,
      15_000,
      'update',
    );
    update.push(Number(updated.at) - setAt);

    const killedAt = Date.now();
    node.kill();
    const gone = await alice.waitFor(
      (l) => l.event === 'peer:leave' && l.peer === node.peerId,
      15_000,
      'leave',
    );
    leave.push(Number(gone.at) - killedAt);
    process.stdout.write('.');
  }
  const row = (metric: string, values: number[], target: string) => ({
    metric,
    trials: values.length,
    p50_ms: percentile(values, 50),
    p95_ms: percentile(values, 95),
    max_ms: Math.max(...values),
    target,
  });
  report(
    'mesh',
    [
      row('join (start -> listed on peer)', join_, 'p50 <= 300, p95 <= 1000'),
      row('leave detection after SIGKILL', leave, 'p95 <= 3000'),
      row('card update propagation', update, 'p50 reported'),
    ],
    { trials, samples: { join: join_, leave, update } },
  );
} finally {
  for (const p of procs) p.kill();
  await Promise.all(procs.map((p) => p.exited));
  ns.cleanup();
  rmSync(tmp, { recursive: true, force: true });
}
