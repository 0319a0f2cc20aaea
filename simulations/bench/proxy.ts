/**
 * `npm run bench -- proxy`: the node's own overhead against calling ollama-sim directly, side by
 * side in one run. Requests alternate between the two paths so that machine noise hits both.
 */
import { rmSync } from 'node:fs';
import { rssMb, startNodeProcess, startSimProcess, stop } from './_processes.js';
import { percentile, report } from './_report.js';

const MODEL = 'llama3.2:3b';
const TTFT_TRIALS = Number(process.env.BENCH_TTFT_TRIALS ?? 300);
const THROUGHPUT_TRIALS = Number(process.env.BENCH_THROUGHPUT_TRIALS ?? 6);
const THROUGHPUT_TOKENS = 4_000;
const STARTUP_TRIALS = 5;

/** Time to the first content chunk of a streamed chat, and tokens/s over the whole stream. */
async function streamChat(
  baseUrl: string,
  numPredict: number,
): Promise<{ ttftMs: number; tokensPerSecond: number }> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/api/chat`, {
    method: 'POST',
    body: JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'bench' }],
      options: { num_predict: numPredict },
    }),
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let ttftMs = Number.NaN;
  let buffered = '';
  let tokens = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (Number.isNaN(ttftMs)) ttftMs = performance.now() - started;
    buffered += decoder.decode(value, { stream: true });
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.includes('"done":false')) tokens += 1;
  }
  const seconds = (performance.now() - started - ttftMs) / 1000;
  return { ttftMs, tokensPerSecond: tokens / seconds };
}

const sim = await startSimProcess(['--profile', 'fast', '--models', MODEL, '--preload', MODEL]);
const node = await startNodeProcess(sim.url);
try {
  // Warm both paths (connection pools, JIT) before measuring.
  for (let i = 0; i < 20; i += 1) {
    await streamChat(sim.url, 4);
    await streamChat(node.url, 4);
  }
  const direct: number[] = [];
  const proxied: number[] = [];
  for (let i = 0; i < TTFT_TRIALS; i += 1) {
    direct.push((await streamChat(sim.url, 4)).ttftMs);
    proxied.push((await streamChat(node.url, 4)).ttftMs);
  }
  const directRate: number[] = [];
  const proxiedRate: number[] = [];
  for (let i = 0; i < THROUGHPUT_TRIALS; i += 1) {
    directRate.push((await streamChat(sim.url, THROUGHPUT_TOKENS)).tokensPerSecond);
    proxiedRate.push((await streamChat(node.url, THROUGHPUT_TOKENS)).tokensPerSecond);
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
