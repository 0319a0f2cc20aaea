/**
 * `npm run bench -- router [--trace uniform|home-evening] [--requests N] [--rate R] [--scale S] [--tokens T] [--seed X]`
 * `[--conversations C] [--one-shots O]` (home-evening: conversations, and one-shot questions per second)
 *
 * Without --trace both traces run: `uniform` (below) and `home-evening` (_home-evening.ts).
 *
 * A simulated heterogeneous home, every placement policy side by side on the same seeded Poisson
 * arrival trace. The hardware is real ollama-sim servers on loopback: one GPU box (llama3.1:8b and
 * llama3.2:3b) and two CPU mini-PCs (llama3.2:3b). All speeds are the built-in gpu/cpu profiles
 * multiplied by --scale so the run is short; every time reported is on that scaled clock.
 *
 * The dispatcher counts the requests it has in flight per node (that is the live load the
 * policies see), asks the policy for a placement, streams /api/chat from the chosen sim, and
 * measures completion time from arrival to the last byte. A 503 (queue full) counts as a failed
 * request; there are no retries, so the policies are compared on their first choice.
 */
import { startOllamaSim } from '@allerac/ollama-sim';
import {
  type Candidate,
  type CandidateModel,
  createAutoPolicy,
  createLeastBusyPolicy,
  createRandomPolicy,
  createRoundRobinPolicy,
  Ewma,
  mulberry32,
  type PlacementPolicy,
} from '@allerac/router';
import {
  type EveningRow,
  type HomeEveningConfig,
  makeEvening,
  runEvening,
  variants,
} from './_home-evening.js';
import { percentile, type Row, report } from './_report.js';

type SimOptions = NonNullable<Parameters<typeof startOllamaSim>[0]>;
type Sim = Awaited<ReturnType<typeof startOllamaSim>>;
type Profile = Exclude<SimOptions['profile'], string | undefined>;

const OPTIONS = ['requests', 'rate', 'scale', 'tokens', 'seed', 'conversations', 'one-shots'] as const;
type Option = (typeof OPTIONS)[number];

const argv = process.argv.slice(2);
const traceAt = argv.indexOf('--trace');
const TRACE = traceAt >= 0 ? argv.splice(traceAt, 2)[1] : undefined;
if (TRACE !== undefined && TRACE !== 'uniform' && TRACE !== 'home-evening') {
  throw new Error('--trace must be uniform or home-evening');
}
const args = parseArgs(argv);
const REQUESTS = args.requests ?? 300;
// 14/s keeps the GPU box ~90% busy on its own (4 slots, ~0.26 s mean service on the scaled clock).
const RATE = args.rate ?? 14; // arrivals per second on the scaled clock
const SCALE = args.scale ?? 5;
const NUM_PREDICT = args.tokens ?? 128;
const SEED = args.seed ?? 42;
const SHARE_8B = 0.25;
const GiB = 1024 ** 3;

/** The built-in gpu and cpu profiles of ollama-sim, sped up by SCALE. */
const gpuProfile: Profile = {
  name: 'gpu',
  tokensPerSecond: 60 * SCALE,
  referenceParamsB: 8,
  ttftMs: 120 / SCALE,
  promptEvalTokensPerSecond: 2500 * SCALE,
  parallelSlots: 4,
  queueLimit: 512,
  memoryBytes: 24 * GiB,
  loadMsPerGB: 400 / SCALE,
  keepAliveMs: 3_600_000,
  gpu: true,
};
const cpuProfile: Profile = {
  name: 'cpu',
  tokensPerSecond: 12 * SCALE,
  referenceParamsB: 3.2,
  ttftMs: 600 / SCALE,
  promptEvalTokensPerSecond: 60 * SCALE,
  parallelSlots: 1,
  queueLimit: 8,
  memoryBytes: 16 * GiB,
  loadMsPerGB: 1500 / SCALE,
  keepAliveMs: 3_600_000,
  gpu: false,
};

interface HomeNode {
  id: string;
  profile: Profile;
  models: string[];
}

/** Ids sort the GPU box first, so least-busy's tie-break by id favours the fast node (the harder baseline). */
const HOME: HomeNode[] = [
  { id: 'gpu-box', profile: gpuProfile, models: ['llama3.1:8b', 'llama3.2:3b'] },
  { id: 'mini-1', profile: cpuProfile, models: ['llama3.2:3b'] },
  { id: 'mini-2', profile: cpuProfile, models: ['llama3.2:3b'] },
];

interface Arrival {
  atMs: number;
  model: string;
  question: string;
}

/** The shared trace: exponential inter-arrival times (Poisson process) and a model mix, from one seed. */
function makeTrace(): Arrival[] {
  const next = mulberry32(SEED);
  const trace: Arrival[] = [];
  let at = 0;
  for (let i = 0; i < REQUESTS; i++) {
    at += (-Math.log(1 - next()) / RATE) * 1000;
    trace.push({
      atMs: at,
      model: next() < SHARE_8B ? 'llama3.1:8b' : 'llama3.2:3b',
      question: `question ${i}`,
    });
  }
  return trace;
}

interface LiveNode {
  home: HomeNode;
  sim: Sim;
  models: CandidateModel[];
  inflight: number;
  tps: Map<string, Ewma>;
  ttft: Map<string, Ewma>;
  placed: number;
}

interface Outcome {
  ok: boolean;
  completionMs: number;
  endMs: number;
}

/** Starts the home's sims and reads their models the way the node does: /api/tags and /api/ps. */
async function startHome(): Promise<LiveNode[]> {
  const nodes: LiveNode[] = [];
  try {
    for (const home of HOME) {
      const sim = await startOllamaSim({
        profile: home.profile,
        models: home.models,
        preload: home.models,
        port: 0,
      });
      nodes.push({ home, sim, models: [], inflight: 0, tps: new Map(), ttft: new Map(), placed: 0 });
    }
    for (const node of nodes) node.models = await readModels(node.sim.url);
    return nodes;
  } catch (error) {
    await Promise.all(nodes.map((n) => n.sim.close()));
    throw error;
  }
}

interface TagsResponse {
  models: Array<{
    name: string;
    size: number;
    details?: { family?: string; parameter_size?: string; quantization_level?: string };
  }>;
}

async function readModels(url: string): Promise<CandidateModel[]> {
  const tags = (await (await fetch(`${url}/api/tags`)).json()) as TagsResponse;
  const ps = (await (await fetch(`${url}/api/ps`)).json()) as TagsResponse;
  const loaded = new Set(ps.models.map((m) => m.name));
  return tags.models.map((m) => ({
    name: m.name,
    sizeBytes: m.size,
    loaded: loaded.has(m.name),
    ...(m.details?.parameter_size === undefined ? {} : { parameterSize: m.details.parameter_size }),
    ...(m.details?.family === undefined ? {} : { family: m.details.family }),
    ...(m.details?.quantization_level === undefined ? {} : { quantization: m.details.quantization_level }),
  }));
}

/** The card each policy sees: exact in-flight counts, memory from the profile, EWMAs measured so far. */
function toCandidate(node: LiveNode, now: number): Candidate {
  const loadedBytes = node.models.filter((m) => m.loaded).reduce((sum, m) => sum + m.sizeBytes, 0);
  const free = node.home.profile.memoryBytes - loadedBytes;
  const slots = node.home.profile.parallelSlots;
  const perModel: Candidate['measured']['perModel'] = {};
  for (const m of node.models) {
    const tokensPerSecond = node.tps.get(m.name)?.value;
    const ttftMs = node.ttft.get(m.name)?.value;
    perModel[m.name] = {
      ...(tokensPerSecond === undefined ? {} : { tokensPerSecond }),
      ...(ttftMs === undefined ? {} : { ttftMs }),
    };
  }
  return {
    id: node.home.id,
    name: node.home.id,
    isLocal: false,
    status: 'online',
    cardIssuedAt: now,
    backendUp: true,
    models: node.models,
    memory: {
      ramFreeBytes: node.home.profile.gpu ? 8 * GiB : free,
      vramFreeBytes: node.home.profile.gpu ? free : 0,
      gpuCount: node.home.profile.gpu ? 1 : 0,
    },
    load: {
      activeTasks: Math.min(node.inflight, slots),
      queueDepth: Math.max(0, node.inflight - slots),
      slots,
    },
    specializations: [],
    measured: { rttMs: 0.2, perModel, recentFailures: 0 },
  };
}

/** Streams one chat from the chosen node and feeds the EWMAs (TTFT only from requests that did not queue). */
async function send(node: LiveNode, arrival: Arrival, arrivedAt: number): Promise<Outcome> {
  const queuedBehind = node.inflight >= node.home.profile.parallelSlots;
  node.inflight++;
  node.placed++;
  try {
    const response = await fetch(`${node.sim.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: arrival.model,
        messages: [{ role: 'user', content: arrival.question }],
        stream: true,
        options: { num_predict: NUM_PREDICT },
      }),
      signal: AbortSignal.timeout(120_000),
    });
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      return { ok: false, completionMs: Number.NaN, endMs: performance.now() };
    }
    let firstAt: number | undefined;
    let buffered = '';
    let final: { done?: boolean; eval_count?: number; eval_duration?: number } | undefined;
    const decoder = new TextDecoder();
    for await (const bytes of response.body) {
      firstAt ??= performance.now();
      buffered += decoder.decode(bytes, { stream: true });
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== '') {
          const object = JSON.parse(line) as typeof final;
          if (object?.done === true) final = object;
        }
        newline = buffered.indexOf('\n');
      }
    }
    const end = performance.now();
    if (final === undefined) return { ok: false, completionMs: Number.NaN, endMs: end };
    if (final.eval_count !== undefined && final.eval_duration !== undefined && final.eval_duration > 0) {
      ewma(node.tps, arrival.model).update(final.eval_count / (final.eval_duration / 1e9));
    }
    if (!queuedBehind && firstAt !== undefined) ewma(node.ttft, arrival.model).update(firstAt - arrivedAt);
    return { ok: true, completionMs: end - arrivedAt, endMs: end };
  } catch {
    return { ok: false, completionMs: Number.NaN, endMs: performance.now() };
  } finally {
    node.inflight--;
  }
}

function ewma(map: Map<string, Ewma>, model: string): Ewma {
  let value = map.get(model);
  if (value === undefined) {
    value = new Ewma();
    map.set(model, value);
  }
  return value;
}

/** One line of the report. */
interface PolicyRow extends Row {
  policy: string;
  requests: number;
  failed: number;
  'p50 ms': number;
  'p95 ms': number;
  'throughput req/s': number;
}

/** Replays the trace open-loop against fresh sims with one policy. */
async function runPolicy(policy: PlacementPolicy, trace: Arrival[]): Promise<PolicyRow> {
  const nodes = await startHome();
  try {
    const outcomes: Array<Promise<Outcome>> = [];
    const start = performance.now();
    for (const arrival of trace) {
      const wait = start + arrival.atMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const now = performance.now();
      const candidates = nodes.map((n) => toCandidate(n, now));
      const choice = policy
        .rank({ model: arrival.model, promptTokens: 16, maxTokens: NUM_PREDICT, now }, candidates)
        .find((p) => p.eligible);
      const node = nodes.find((n) => n.home.id === choice?.nodeId);
      outcomes.push(
        node === undefined
          ? Promise.resolve({ ok: false, completionMs: Number.NaN, endMs: now })
          : send(node, arrival, now),
      );
    }
    const results = await Promise.all(outcomes);
    const ok = results.filter((r) => r.ok);
    const times = ok.map((r) => r.completionMs);
    const lastEnd = Math.max(...results.map((r) => r.endMs));
    const placed = Object.fromEntries(nodes.map((n) => [`to ${n.home.id}`, n.placed]));
    return {
      policy: policy.name,
      requests: results.length,
      failed: results.length - ok.length,
      'p50 ms': Math.round(percentile(times, 50)),
      'p95 ms': Math.round(percentile(times, 95)),
      'throughput req/s': Number((ok.length / ((lastEnd - start) / 1000)).toFixed(2)),
      ...placed,
    };
  } finally {
    await Promise.all(nodes.map((n) => n.sim.close()));
  }
}

function parseArgs(argv: string[]): Partial<Record<Option, number>> {
  const out: Partial<Record<Option, number>> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]?.replace(/^--/, '') as Option | undefined;
    const value = Number(argv[i + 1]);
    if (key === undefined || !OPTIONS.includes(key)) {
      throw new Error(`unknown option ${argv[i]}; use ${OPTIONS.map((o) => `--${o}`).join(', ')}`);
    }
    if (!Number.isFinite(value) || value <= 0) throw new Error(`option --${key} needs a positive number`);
    out[key] = value;
  }
  return out;
}

if (TRACE !== 'home-evening') await runUniform();
if (TRACE !== 'uniform') await runHomeEveningTrace();

async function runUniform(): Promise<void> {
  const trace = makeTrace();
  const policies = [
    createAutoPolicy(),
    createRandomPolicy(SEED),
    createRoundRobinPolicy(),
    createLeastBusyPolicy(),
  ];
  const rows: PolicyRow[] = [];
  for (const policy of policies) {
    rows.push(await runPolicy(policy, trace));
    console.log(`${policy.name}: done`);
  }
  const p95 = (name: string) => rows.find((r) => r.policy === name)!['p95 ms'];
  const vsRandom = p95('random') / p95('auto');
  const vsLeastBusy = p95('least-busy') / p95('auto');
  const autoFailed = rows.find((r) => r.policy === 'auto')!.failed;
  const config = {
    requests: REQUESTS,
    ratePerSecond: RATE,
    scale: SCALE,
    numPredict: NUM_PREDICT,
    seed: SEED,
    share8b: SHARE_8B,
  };
  report('router', rows, {
    config,
    ratios: { autoP95VsRandom: vsRandom, autoP95VsLeastBusy: vsLeastBusy },
    targets: { vsRandom: 2, vsLeastBusy: 1.3, autoFailed: 0 },
  });
  console.log(`config: ${JSON.stringify(config)} (times on the ${SCALE}x-scaled clock)`);
  console.log(
    `auto p95 vs random p95: ${vsRandom.toFixed(2)}x (target >= 2) ${vsRandom >= 2 ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    `auto p95 vs least-busy p95: ${vsLeastBusy.toFixed(2)}x (target >= 1.3) ${vsLeastBusy >= 1.3 ? 'PASS' : 'FAIL'}`,
  );
  console.log(`auto failed requests: ${autoFailed} (target 0) ${autoFailed === 0 ? 'PASS' : 'FAIL'}`);
}

/** The home-evening trace: every policy on the same evening, with the issue's targets. */
async function runHomeEveningTrace(): Promise<void> {
  const config: HomeEveningConfig = {
    scale: args.scale ?? 10,
    seed: SEED,
    durationMs: 40_000,
    conversations: args.conversations ?? 6,
    turns: 4,
    oneShotsPerSecond: args['one-shots'] ?? 0.4,
  };
  const evening = makeEvening(config);
  const rows: EveningRow[] = [];
  for (const variant of variants(SEED)) {
    rows.push(await runEvening(variant, evening, config));
    console.log(`${variant.policy.name}: done`);
  }
  const row = (name: string) => rows.find((r) => r.policy === name)!;
  const auto = row('auto');
  const ratios = {
    autoTtftP95VsLeastBusy: row('least-busy')['ttft p95 ms'] / auto['ttft p95 ms'],
    coldLoadsFewerThanNoLoadTerm: 1 - auto['cold loads'] / row('auto, no load term')['cold loads'],
    followUpTokensFewerThanNoAffinity:
      1 - auto['follow-up prompt tokens'] / row('auto, no affinity')['follow-up prompt tokens'],
  };
  const targets = {
    autoTtftP95VsLeastBusy: 2,
    coldLoadsFewerThanNoLoadTerm: 0.3,
    followUpTokensFewerThanNoAffinity: 0.5,
  };
  report('router-home-evening', rows, { config, ratios, targets });
  console.log(`config: ${JSON.stringify(config)} (times on the ${config.scale}x-scaled clock)`);
  for (const [name, value] of Object.entries(ratios)) {
    const target = targets[name as keyof typeof targets];
    console.log(`${name}: ${value.toFixed(2)} (target >= ${target}) ${value >= target ? 'PASS' : 'FAIL'}`);
  }
}
