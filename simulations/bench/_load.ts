/**
 * Load shapes shared by the proxy and hop benchmarks: alternating single requests for TTFT,
 * back-to-back streams for throughput, and N concurrent streams with each process's CPU time
 * read from /proc, so that every path is measured side by side in one run.
 */
import { readFileSync } from 'node:fs';
import { streamChat } from './_processes.js';
import { percentile } from './_report.js';

/** One way to reach the model: ollama-sim directly, a node, or a node that relays to a peer. */
export interface Path {
  name: string;
  url: string;
}

/** Kernel clock ticks per second for /proc/<pid>/stat; 100 on every Linux we run on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** TTFT samples per path; requests alternate between the paths so that noise hits each alike. */
export async function ttftTrials(
  paths: readonly Path[],
  model: string,
  trials: number,
): Promise<Map<string, number[]>> {
  const samples = new Map(paths.map((path) => [path.name, [] as number[]]));
  for (let i = 0; i < trials; i += 1) {
    for (const path of paths) samples.get(path.name)!.push((await streamChat(path.url, model, 4)).ttftMs);
  }
  return samples;
}

/** Single-stream tokens/s per path, alternating. */
export async function rateTrials(
  paths: readonly Path[],
  model: string,
  tokens: number,
  trials: number,
): Promise<Map<string, number[]>> {
  const samples = new Map(paths.map((path) => [path.name, [] as number[]]));
  for (let i = 0; i < trials; i += 1) {
    for (const path of paths) {
      samples.get(path.name)!.push((await streamChat(path.url, model, tokens)).tokensPerSecond);
    }
  }
  return samples;
}

/** What N concurrent streams through one path cost. */
export interface ParallelResult {
  wallMs: number;
  tokens: number;
  errors: number;
  ttftMs: number[];
  /** CPU ms each watched process spent during the run, by its label. */
  cpuMs: Record<string, number>;
}

/** Streams `streams` chats of `tokens` tokens at once through `path`, watching `pids`' CPU. */
export async function parallelStreams(
  path: Path,
  model: string,
  streams: number,
  tokens: number,
  pids: Record<string, number>,
): Promise<ParallelResult> {
  const before = Object.fromEntries(Object.entries(pids).map(([label, pid]) => [label, cpuMs(pid)]));
  const started = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: streams }, () => streamChat(path.url, model, tokens)),
  );
  const wallMs = performance.now() - started;
  const used = Object.fromEntries(
    Object.entries(pids).map(([label, pid]) => [label, cpuMs(pid) - before[label]!]),
  );
  const ok = results.filter((r) => r.status === 'fulfilled');
  return {
    wallMs,
    tokens: ok.reduce((sum, r) => sum + r.value.tokens, 0),
    errors: results.length - ok.length,
    ttftMs: ok.map((r) => r.value.ttftMs),
    cpuMs: used,
  };
}

/** Median and 95th percentile. */
export const p50 = (values: readonly number[]): number => percentile(values, 50);
export const p95 = (values: readonly number[]): number => percentile(values, 95);

/** `part` as a percentage of `whole`, for a table cell. */
export const pct = (part: number, whole: number): string => `${((part / whole) * 100).toFixed(1)}%`;

/** CPU ms per 1,000 tokens. */
export const perKiloToken = (ms: number, tokens: number): number => (ms / tokens) * 1000;
