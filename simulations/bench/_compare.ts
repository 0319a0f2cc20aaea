/**
 * The side-by-side part of the proxy and hop benchmarks: TTFT, single-stream throughput at
 * 2,000 tok/s and at the top rate, 8 streams at the top rate with each process's CPU time, and 64
 * concurrent streams, over several paths to the same ollama-sim in one run.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ParallelResult,
  type Path,
  p50,
  p95,
  parallelStreams,
  pct,
  perKiloToken,
  rateTrials,
  ttftTrials,
} from './_load.js';
import { streamChat } from './_processes.js';
import type { Row } from './_report.js';

/** The node's parallel generations (packages/node/src/inference/local-load.ts). */
const DEFAULT_SLOTS = 4;

/**
 * The highest per-stream rate: 8 direct streams at 5,000 tok/s already take most of a core of
 * ollama-sim (the measurement), and above it the sim no longer keeps its own pace.
 */
export const TOP_RATE = Number(process.env.BENCH_TOP_RATE ?? 5_000);
/** Served at TOP_RATE: the sim's rate scales with 3.2B / the model's size. */
export const TOP_MODEL = 'llama3.2:3b';
/** An 8.0B model, so served at TOP_RATE × 3.2 / 8 (2,000 tok/s at the default top rate). */
export const RATE_MODEL = 'llama3.1:8b';
export const RATE_MODEL_TPS = (TOP_RATE * 3.2) / 8;

const TTFT_TRIALS = Number(process.env.BENCH_TTFT_TRIALS ?? 300);
const THROUGHPUT_TRIALS = Number(process.env.BENCH_THROUGHPUT_TRIALS ?? 6);
const THROUGHPUT_TOKENS = 4_000;
const PARALLEL_ROUNDS = Number(process.env.BENCH_PARALLEL_ROUNDS ?? 3);
const PARALLEL_STREAMS = 8;
const CONCURRENT_STREAMS = 64;
const CONCURRENT_TOKENS = 100;

/** ollama-sim's arguments for the two rates of this comparison. */
export function simArgs(): string[] {
  const profileFile = join(tmpdir(), `allerac-bench-profile-${process.pid}.json`);
  writeFileSync(profileFile, JSON.stringify({ tokensPerSecond: TOP_RATE }));
  const models = `${TOP_MODEL},${RATE_MODEL}`;
  return ['--profile', 'fast', '--profile-file', profileFile, '--models', models, '--preload', models];
}

/** What the comparison is about: `subject` against `baseline`, and whose CPU counts where. */
export interface Comparison {
  paths: Path[];
  baseline: string;
  subject: string;
  /** Processes to read CPU time from, by label; `sim` must be one of them. */
  pids: Record<string, number>;
  /** For each node label, the paths on which its CPU is its own forwarding cost. */
  cpuOf: Array<{ label: string; paths: string[] }>;
  ttftTarget: string;
}

/** Runs every load shape over every path; returns the table rows and the raw samples. */
export async function comparePaths(c: Comparison): Promise<{ rows: Row[]; raw: Record<string, unknown> }> {
  for (let i = 0; i < 20; i += 1) for (const path of c.paths) await streamChat(path.url, TOP_MODEL, 4);
  const names = c.paths.map((p) => p.name);
  const cells = (value: (name: string) => number | string) =>
    Object.fromEntries(names.map((name) => [name, value(name)]));
  const rows: Row[] = [];

  const ttft = await ttftTrials(c.paths, TOP_MODEL, TTFT_TRIALS);
  for (const [label, stat, target] of [
    ['p50', p50, c.ttftTarget],
    ['p95', p95, ''],
  ] as const) {
    rows.push({
      metric: `TTFT ${label} (ms)`,
      ...cells((name) => stat(ttft.get(name)!)),
      difference: stat(ttft.get(c.subject)!) - stat(ttft.get(c.baseline)!),
      target,
    });
  }

  for (const [model, rate] of [
    [RATE_MODEL, RATE_MODEL_TPS],
    [TOP_MODEL, TOP_RATE],
  ] as const) {
    const rates = await rateTrials(c.paths, model, THROUGHPUT_TOKENS, THROUGHPUT_TRIALS);
    rows.push({
      metric: `1 stream at ${rate} tok/s (tok/s)`,
      ...cells((name) => p50(rates.get(name)!)),
      difference: `${pct(p50(rates.get(c.subject)!), p50(rates.get(c.baseline)!))} of ${c.baseline}`,
      target: '≥ 99%',
    });
  }

  // At the node's own slot count too: above it the node queues (local-load.ts), and the 8-stream
  // figure then measures admission, not forwarding.
  const byStreams = new Map<number, Map<string, ParallelResult[]>>();
  for (const streams of [DEFAULT_SLOTS, PARALLEL_STREAMS]) {
    const runs = new Map(names.map((name) => [name, [] as ParallelResult[]]));
    byStreams.set(streams, runs);
    for (let round = 0; round < PARALLEL_ROUNDS; round += 1) {
      for (const path of c.paths) {
        runs.get(path.name)!.push(await parallelStreams(path, TOP_MODEL, streams, THROUGHPUT_TOKENS, c.pids));
      }
    }
    const aggregate = (name: string) => p50(runs.get(name)!.map((r) => (r.tokens / r.wallMs) * 1000));
    rows.push({
      metric: `${streams} streams at ${TOP_RATE} tok/s (tok/s, all streams)`,
      ...cells(aggregate),
      difference: `${pct(aggregate(c.subject), aggregate(c.baseline))} of ${c.baseline}`,
      target: streams === PARALLEL_STREAMS ? '≥ 90%' : '',
    });
  }
  const parallel = byStreams.get(PARALLEL_STREAMS)!;
  const cpu = (label: string, name: string) =>
    p50(parallel.get(name)!.map((r) => perKiloToken(r.cpuMs[label]!, r.tokens)));
  const simCpu = cpu('sim', c.paths[0]!.name);
  rows.push({ metric: 'CPU ms per 1,000 tokens: ollama-sim', ...cells((name) => cpu('sim', name)) });
  for (const { label, paths } of c.cpuOf) {
    rows.push({
      metric: `CPU ms per 1,000 tokens: ${label}`,
      ...cells((name) => cpu(label, name)),
      difference: paths.map((path) => `${(cpu(label, path) / simCpu).toFixed(2)}× sim on ${path}`).join('; '),
      target: '≤ 2×',
    });
  }

  const concurrent = new Map(names.map((name) => [name, [] as ParallelResult[]]));
  for (let round = 0; round < PARALLEL_ROUNDS; round += 1) {
    for (const path of c.paths) {
      concurrent
        .get(path.name)!
        .push(await parallelStreams(path, TOP_MODEL, CONCURRENT_STREAMS, CONCURRENT_TOKENS, {}));
    }
  }
  const errors = (name: string) => concurrent.get(name)!.reduce((sum, r) => sum + r.errors, 0);
  const concurrentTtft = (name: string) => p95(concurrent.get(name)!.flatMap((r) => r.ttftMs));
  rows.push({
    metric: `${CONCURRENT_STREAMS} concurrent streams × ${PARALLEL_ROUNDS}: errors`,
    ...cells(errors),
    difference: '',
    target: '0',
  });
  rows.push({
    metric: `${CONCURRENT_STREAMS} concurrent streams: TTFT p95 (ms)`,
    ...cells(concurrentTtft),
    difference: concurrentTtft(c.subject) - concurrentTtft(c.baseline),
    target: '',
  });

  return {
    rows,
    raw: {
      topRate: TOP_RATE,
      trials: { ttft: TTFT_TRIALS, throughput: THROUGHPUT_TRIALS, parallelRounds: PARALLEL_ROUNDS },
      parallel: Object.fromEntries(
        [...byStreams].map(([streams, runs]) => [streams, Object.fromEntries(runs)]),
      ),
      concurrent: Object.fromEntries(
        [...concurrent].map(([name, runs]) => [name, runs.map(({ ttftMs: _, ...rest }) => rest)]),
      ),
    },
  };
}
