/**
 * `npm run bench -- ab --base <another build's packages/node/bin/allerac.js>`: this tree's node
 * against another build's, alternating in one run on one ollama-sim. For a change smaller than the
 * noise between runs (about ±20 % on a shared two-core machine), both builds meet the same noise:
 * CPU per 1,000 forwarded tokens with 8 streams at the top rate, and TTFT p50. Make the base with
 * `git worktree add /tmp/base <ref> && cd /tmp/base && npm install && npx tsc -b`.
 * Without `--base` it says so and measures nothing.
 */
import { rmSync } from 'node:fs';
import { simArgs, TOP_MODEL } from './_compare.js';
import { type ParallelResult, p50, parallelStreams, perKiloToken, ttftTrials } from './_load.js';
import { NODE_BIN, startNodeProcess, startSimProcess, stop } from './_processes.js';
import { report } from './_report.js';

const ROUNDS = Number(process.env.BENCH_AB_ROUNDS ?? 6);
const TTFT_TRIALS = Number(process.env.BENCH_TTFT_TRIALS ?? 300);
const STREAMS = 8;
const TOKENS = 4_000;

const at = process.argv.indexOf('--base');
const baseBin = at === -1 ? undefined : process.argv[at + 1];
if (baseBin === undefined) {
  console.log('ab: skipped; give --base <path to another build of packages/node/bin/allerac.js>');
  process.exit(0);
}

const sim = await startSimProcess(simArgs());
const builds = [
  { name: 'base', node: await startNodeProcess(sim.url, [], {}, [], baseBin) },
  { name: 'this tree', node: await startNodeProcess(sim.url, [], {}, [], NODE_BIN) },
];
try {
  const paths = builds.map((b) => ({ name: b.name, url: b.node.url }));
  const cpu = new Map(builds.map((b) => [b.name, [] as number[]]));
  const simCpu = new Map(builds.map((b) => [b.name, [] as number[]]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, b] of builds.entries()) {
      const pids = { node: b.node.child.pid!, sim: sim.child.pid! };
      // Three runs back to back per sample: /proc counts CPU in 10 ms ticks.
      const runs: ParallelResult[] = [];
      for (let k = 0; k < 3; k += 1)
        runs.push(await parallelStreams(paths[i]!, TOP_MODEL, STREAMS, TOKENS, pids));
      const tokens = runs.reduce((sum, r) => sum + r.tokens, 0);
      const used = (label: string) => runs.reduce((sum, r) => sum + r.cpuMs[label]!, 0);
      cpu.get(b.name)!.push(perKiloToken(used('node'), tokens));
      simCpu.get(b.name)!.push(perKiloToken(used('sim'), tokens));
    }
  }
  const ttft = await ttftTrials(paths, TOP_MODEL, TTFT_TRIALS);
  const row = (metric: string, value: (name: string) => number) => {
    const [base, mine] = builds.map((b) => value(b.name));
    return { metric, base: base!, 'this tree': mine!, 'this / base': (mine! / base!).toFixed(3) };
  };
  report(
    'ab',
    [
      row(`node CPU ms per 1,000 tokens (${STREAMS} streams × 3, p50 of ${ROUNDS})`, (n) => p50(cpu.get(n)!)),
      row('ollama-sim CPU ms per 1,000 tokens, same runs', (n) => p50(simCpu.get(n)!)),
      row(`TTFT p50 (ms, ${TTFT_TRIALS} alternating trials)`, (n) => p50(ttft.get(n)!)),
    ],
    {
      command: `npm run bench -- ab --base ${baseBin}`,
      raw: { cpu: Object.fromEntries(cpu), simCpu: Object.fromEntries(simCpu) },
    },
  );
} finally {
  for (const b of builds) {
    await stop(b.node.child);
    rmSync(b.node.dataDir, { recursive: true, force: true });
  }
  await stop(sim.child);
}
