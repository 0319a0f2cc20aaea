/**
 * `npm run bench -- hop`: one mesh hop against a local call, side by side in one run. Node B has
 * the model (a fast ollama-sim); node A has none, so every request to A is served by B over
 * libp2p. Requests alternate between "B directly" and "A, relayed to B".
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_CLI, startNodeProcess, startSimProcess, stop, streamChat } from './_processes.js';
import { percentile, report } from './_report.js';

const MODEL = 'llama3.2:3b';
const TTFT_TRIALS = Number(process.env.BENCH_TTFT_TRIALS ?? 300);
const THROUGHPUT_TRIALS = Number(process.env.BENCH_THROUGHPUT_TRIALS ?? 6);
const THROUGHPUT_TOKENS = 4_000;

const simB = await startSimProcess(['--profile', 'fast', '--models', MODEL, '--preload', MODEL]);
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
try {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const tags = (await (await fetch(`${a.url}/api/tags`)).json()) as { models?: Array<{ name: string }> };
    if (tags.models?.some((m) => m.name === MODEL)) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  for (let i = 0; i < 20; i += 1) {
    await streamChat(b.url, MODEL, 4);
    await streamChat(a.url, MODEL, 4);
  }
  const local: number[] = [];
  const hop: number[] = [];
  for (let i = 0; i < TTFT_TRIALS; i += 1) {
    local.push((await streamChat(b.url, MODEL, 4)).ttftMs);
    hop.push((await streamChat(a.url, MODEL, 4)).ttftMs);
  }
  const localRate: number[] = [];
  const hopRate: number[] = [];
  for (let i = 0; i < THROUGHPUT_TRIALS; i += 1) {
    localRate.push((await streamChat(b.url, MODEL, THROUGHPUT_TOKENS)).tokensPerSecond);
    hopRate.push((await streamChat(a.url, MODEL, THROUGHPUT_TOKENS)).tokensPerSecond);
  }
  const p50 = (values: number[]) => percentile(values, 50);
  report(
    'hop',
    [
      {
        metric: 'TTFT p50 (ms)',
        local: p50(local),
        'one hop': p50(hop),
        difference: p50(hop) - p50(local),
        target: '≤ +3 ms',
      },
      {
        metric: 'TTFT p95 (ms)',
        local: percentile(local, 95),
        'one hop': percentile(hop, 95),
        difference: percentile(hop, 95) - percentile(local, 95),
        target: '',
      },
      {
        metric: `throughput at 2000 tok/s (tok/s, ${THROUGHPUT_TOKENS} tokens)`,
        local: p50(localRate),
        'one hop': p50(hopRate),
        difference: `${((p50(hopRate) / p50(localRate)) * 100).toFixed(1)}% of local`,
        target: '≥ 95%',
      },
    ],
    { command: 'npm run bench -- hop', trials: { ttft: TTFT_TRIALS, throughput: THROUGHPUT_TRIALS } },
  );
} finally {
  await stop(a.child);
  await stop(b.child);
  await stop(simA.child);
  await stop(simB.child);
  rmSync(a.dataDir, { recursive: true, force: true });
  rmSync(b.dataDir, { recursive: true, force: true });
}
