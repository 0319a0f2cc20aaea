/**
 * `npm run bench -- proxy`: the node's own overhead against calling ollama-sim directly, side by
 * side in one run (requests alternate between the two paths so that machine noise hits both),
 * then the node's idle footprint with embedded PGlite and with `DATABASE_URL`.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { comparePaths, simArgs } from './_compare.js';
import { p50 } from './_load.js';
import {
  rssMb,
  startFloorProxy,
  startNodeProcess,
  startPortScript,
  startSimProcess,
  stop,
} from './_processes.js';
import { type Row, report } from './_report.js';

const STARTUP_TRIALS = 5;
const IDLE_TRIALS = Number(process.env.BENCH_IDLE_TRIALS ?? 3);
/** How long a fresh node idles before its RSS is read: start-up's garbage has been collected. */
const IDLE_MS = 5_000;
const PGLITE_SERVER = new URL('./_pglite-server.ts', import.meta.url).pathname;

/** PGlite over the wire in a process of its own; resolves once it listens. */
async function startPgliteServer(): Promise<{ url: string; child: ChildProcess }> {
  const { port, child } = await startPortScript(PGLITE_SERVER, []);
  return { url: `postgres://postgres:bench@127.0.0.1:${port}/postgres`, child };
}

/** VmRSS of a freshly started node after IDLE_MS without traffic. */
async function idleRss(ollamaUrl: string, extra: string[], nodeArgs: string[] = []): Promise<number> {
  const fresh = await startNodeProcess(ollamaUrl, extra, {}, nodeArgs);
  try {
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    return rssMb(fresh.child.pid!);
  } finally {
    await stop(fresh.child);
    rmSync(fresh.dataDir, { recursive: true, force: true });
  }
}

const sim = await startSimProcess(simArgs());
const node = await startNodeProcess(sim.url);
// The floor: what any Node.js process in the path costs on this machine (see _floor-proxy.ts).
const pipeFloor = await startFloorProxy('pipe', sim.url);
const parseFloor = await startFloorProxy('parse', sim.url);
try {
  const { rows, raw } = await comparePaths({
    paths: [
      { name: 'direct', url: sim.url },
      { name: 'floor: pipe proxy', url: pipeFloor.url },
      { name: 'floor: parsing proxy', url: parseFloor.url },
      { name: 'node', url: node.url },
    ],
    baseline: 'direct',
    subject: 'node',
    pids: {
      sim: sim.child.pid!,
      'floor: pipe proxy': pipeFloor.child.pid!,
      'floor: parsing proxy': parseFloor.child.pid!,
      node: node.child.pid!,
    },
    cpuOf: [
      { label: 'floor: pipe proxy', paths: ['floor: pipe proxy'] },
      { label: 'floor: parsing proxy', paths: ['floor: parsing proxy'] },
      { label: 'node', paths: ['node'] },
    ],
    ttftTarget: '≤ +0.5 ms',
  });
  // Each path's own TTFT overhead, so the node's is read against the floor's.
  const ttftP50 = rows[0]!;
  rows.splice(2, 0, {
    metric: 'TTFT p50 minus direct (ms)',
    ...Object.fromEntries(
      ['floor: pipe proxy', 'floor: parsing proxy', 'node'].map((name) => [
        name,
        Number(ttftP50[name]) - Number(ttftP50.direct),
      ]),
    ),
    difference: '',
    target: '≤ +0.5 ms (node)',
  });
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const afterTraffic = rssMb(node.child.pid!);
  await stop(node.child);

  const pglite: number[] = [];
  const allTiers: number[] = [];
  const postgres: number[] = [];
  for (let i = 0; i < IDLE_TRIALS; i += 1) {
    pglite.push(await idleRss(sim.url, []));
    // As before bin/allerac.js ran WebAssembly on the baseline compiler only.
    allTiers.push(await idleRss(sim.url, [], ['--no-liftoff-only']));
    const server = await startPgliteServer();
    try {
      postgres.push(await idleRss(sim.url, ['--database-url', server.url]));
    } finally {
      await stop(server.child);
    }
  }

  const startups: number[] = [];
  for (let i = 0; i < STARTUP_TRIALS; i += 1) {
    const fresh = await startNodeProcess(sim.url);
    startups.push(fresh.startToHealthyMs);
    await stop(fresh.child);
    rmSync(fresh.dataDir, { recursive: true, force: true });
  }

  const single = (metric: string, value: number, target: string): Row => ({
    metric,
    direct: '',
    node: value,
    difference: '',
    target,
  });
  rows.push(
    single('idle RSS after the traffic above (MB)', afterTraffic, ''),
    single(`idle RSS, fresh start, PGlite (MB, p50 of ${IDLE_TRIALS})`, p50(pglite), '≤ 200 MB'),
    single(`idle RSS, fresh start, PGlite, every WASM tier (MB, p50 of ${IDLE_TRIALS})`, p50(allTiers), ''),
    single(`idle RSS, fresh start, DATABASE_URL (MB, p50 of ${IDLE_TRIALS})`, p50(postgres), ''),
    single(`start to healthy, empty data dir (ms, p50 of ${STARTUP_TRIALS})`, p50(startups), '≤ 3000 ms'),
  );
  report('proxy', rows, {
    command: 'npm run bench -- proxy',
    ...raw,
    raw: { startups, idleRss: { pglite, allTiers, postgres, afterTraffic } },
  });
} finally {
  await stop(node.child);
  await stop(pipeFloor.child);
  await stop(parseFloor.child);
  await stop(sim.child);
  rmSync(node.dataDir, { recursive: true, force: true });
}
