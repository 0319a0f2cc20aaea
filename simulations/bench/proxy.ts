/**
 * `npm run bench -- proxy`: the node's own overhead against calling ollama-sim directly, side by
 * side in one run. Requests alternate between the two paths so that machine noise hits both.
 */
import { rmSync } from 'node:fs';
import { rssMb, startNodeProcess, startSimProcess, stop, streamChat } from './_processes.js';
import { percentile, report } from './_report.js';

const MODEL = 'llama3.2:3b';
const TTFT_TRIALS = Number(process.env.BENCH_TTFT_TRIALS ?? 300);
const THROUGHPUT_TRIALS = Number(process.env.BENCH_THROUGHPUT_TRIALS ?? 6);
const THROUGHPUT_TOKENS = 4_000;
const STARTUP_TRIALS = 5;

const sim = await startSimProcess(['--profile', 'fast', '--models', MODEL, '--preload', MODEL]);
const node = await startNodeProcess(sim.url);
try {
  // Warm both paths (connection pools, JIT) before measuring.
  for (let i = 0; i < 20; i += 1) {
    await streamChat(sim.url, MODEL, 4);
    await streamChat(node.url, MODEL, 4);
  }
  const direct: number[] = [];
  const proxied: number[] = [];
  for (let i = 0; i < TTFT_TRIALS; i += 1) {
    direct.push((await streamChat(sim.url, MODEL, 4)).ttftMs);
    proxied.push((await streamChat(node.url, MODEL, 4)).ttftMs);
  }
  const directRate: number[] = [];
  const proxiedRate: number[] = [];
  for (let i = 0; i < THROUGHPUT_TRIALS; i += 1) {
    directRate.push((await streamChat(sim.url, MODEL, THROUGHPUT_TOKENS)).tokensPerSecond);
    proxiedRate.push((await streamChat(node.url, MODEL, THROUGHPUT_TOKENS)).tokensPerSecond);
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const idleRss = rssMb(node.child.pid!);

  const startups: number[] = [];
  for (let i = 0; i < STARTUP_TRIALS; i += 1) {
    const fresh = await startNodeProcess(sim.url);
    startups.push(fresh.startToHealthyMs);
    await stop(fresh.child);
    rmSync(fresh.dataDir, { recursive: true, force: true });
  }

  const median = (values: number[]) => percentile(values, 50);
  const rows = [
    {
      metric: 'TTFT p50 (ms)',
      direct: median(direct),
      node: median(proxied),
      difference: median(proxied) - median(direct),
      target: '≤ +2 ms',
    },
    {
      metric: 'TTFT p95 (ms)',
      direct: percentile(direct, 95),
      node: percentile(proxied, 95),
      difference: percentile(proxied, 95) - percentile(direct, 95),
      target: '',
    },
    {
      metric: `throughput at 2000 tok/s (tok/s, ${THROUGHPUT_TOKENS} tokens)`,
      direct: median(directRate),
      node: median(proxiedRate),
      difference: `${((median(proxiedRate) / median(directRate)) * 100).toFixed(1)}% of direct`,
      target: '≥ 95%',
    },
    { metric: 'idle RSS (MB)', direct: '', node: idleRss, difference: '', target: '≤ 200 MB' },
    {
      metric: 'start to healthy, empty data dir (ms, p50)',
      direct: '',
      node: median(startups),
      difference: '',
      target: '≤ 3000 ms',
    },
  ];
  report('proxy', rows, {
    command: 'npm run bench -- proxy',
    trials: { ttft: TTFT_TRIALS, throughput: THROUGHPUT_TRIALS, startup: STARTUP_TRIALS },
    raw: { startups },
  });
} finally {
  await stop(node.child);
  await stop(sim.child);
  rmSync(node.dataDir, { recursive: true, force: true });
}
