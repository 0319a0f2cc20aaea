/**
 * The "home evening" trace of `npm run bench -- router`: a GPU desktop (the 8B and coder models),
 * two CPU mini-PCs and a laptop that leaves half-way (the 3B chat model and the 8B); three models; multi-turn conversations over long documents (a long
 * shared prefix per conversation); bursts of long prompts; one-shot questions in between.
 *
 * The hardware is real ollama-sim servers on loopback (built-in profiles sped up by --scale), so
 * load_duration, the KV cache per slot, evictions and the num_ctx reloads are Ollama's. Like
 * Ollama, prompt_eval_count counts the whole prompt, cached prefix included; the tokens a node
 * really evaluated are read back from prompt_eval_duration and its profile (evaluatedTokens).
 * The dispatcher plays the entry node: it refreshes each node's /api/ps every CARD_MS (what cards
 * carry), learns with the node's own PeerMeasurements, and keys conversations with the node's own
 * ConversationAffinities. Conversations are closed loops (the next turn
 * follows the answer after a think time); everything else arrives on a seeded schedule.
 */

import { ConversationAffinities, PeerMeasurements, promptTokensOf, turnTokens } from '@allerac/node';
import { startOllamaSim } from '@allerac/ollama-sim';
import {
  type Candidate,
  type CandidateModel,
  createAutoPolicy,
  createLeastBusyPolicy,
  createRandomPolicy,
  createRoundRobinPolicy,
  mulberry32,
  type PlacementPolicy,
  type Task,
} from '@allerac/router';
import { percentile, type Row } from './_report.js';

type SimOptions = NonNullable<Parameters<typeof startOllamaSim>[0]>;
type Sim = Awaited<ReturnType<typeof startOllamaSim>>;
type Profile = Exclude<SimOptions['profile'], string | undefined>;

const GiB = 1024 ** 3;
/** How often the entry node hears a node's /api/ps through its card. */
const CARD_MS = 250;
/** A load_duration above this (scaled clock) is a model being loaded, not bookkeeping. */
const COLD_LOAD_NS = 10e6;

/** Settings of the trace. */
export interface HomeEveningConfig {
  scale: number;
  seed: number;
  /** Length of the evening on the scaled clock, ms. */
  durationMs: number;
  conversations: number;
  turns: number;
  oneShotsPerSecond: number;
}

const BIG = 'llama3.1:8b';
const SMALL = 'llama3.2:3b';
const CODER = 'qwen2.5-coder:7b';

function scaled(profile: Omit<Profile, 'name'> & { name: string }, s: number): Profile {
  return {
    ...profile,
    tokensPerSecond: profile.tokensPerSecond * s,
    ttftMs: profile.ttftMs / s,
    promptEvalTokensPerSecond: profile.promptEvalTokensPerSecond * s,
    loadMsPerGB: profile.loadMsPerGB / s,
    keepAliveMs: profile.keepAliveMs / s,
  };
}

interface HomeNode {
  id: string;
  profile: Profile;
  models: string[];
  preload: string[];
  /** When it leaves the mesh, as a fraction of the evening. */
  leavesAt?: number;
}

/** The built-in gpu, cpu and laptop profiles (5-minute keep-alive), sped up. */
function home(s: number): HomeNode[] {
  const keepAliveMs = 5 * 60_000;
  return [
    {
      id: 'desktop',
      profile: scaled(
        {
          name: 'gpu',
          tokensPerSecond: 60,
          referenceParamsB: 8,
          ttftMs: 120,
          promptEvalTokensPerSecond: 2500,
          parallelSlots: 4,
          queueLimit: 512,
          memoryBytes: 8 * GiB,
          loadMsPerGB: 400,
          keepAliveMs,
          gpu: true,
        },
        s,
      ),
      // The gaming PC keeps its 8 GB card (the most common size) for the big models, one at a
      // time: the 8B (4.9 GB) and the coder (4.7 GB) do not fit together. The family's small chat
      // model lives on the always-on boxes.
      models: [BIG, CODER],
      preload: [BIG],
    },
    ...['mini-1', 'mini-2'].map(
      (id): HomeNode => ({
        id,
        profile: scaled(
          {
            name: 'cpu',
            tokensPerSecond: 12,
            referenceParamsB: 3.2,
            ttftMs: 600,
            promptEvalTokensPerSecond: 60,
            parallelSlots: 1,
            queueLimit: 8,
            memoryBytes: 16 * GiB,
            loadMsPerGB: 1500,
            keepAliveMs,
            gpu: false,
          },
          s,
        ),
        models: [SMALL, BIG],
        preload: [SMALL],
      }),
    ),
    {
      id: 'laptop',
      profile: scaled(
        {
          name: 'laptop',
          tokensPerSecond: 28,
          referenceParamsB: 3.2,
          ttftMs: 250,
          promptEvalTokensPerSecond: 400,
          parallelSlots: 2,
          queueLimit: 32,
          memoryBytes: 16 * GiB,
          loadMsPerGB: 900,
          keepAliveMs,
          gpu: true,
        },
        s,
      ),
      models: [SMALL, BIG, CODER],
      preload: [SMALL, BIG],
      leavesAt: 0.55,
    },
  ];
}

/** One request of the trace; a conversation's turns after the first carry the earlier ones. */
interface Request {
  model: string;
  /** Messages before the answers are known: each turn's user message. */
  turns: string[];
  system?: string;
  numPredict: number;
  numCtx?: number;
  /** Client-given conversation id (the web UI); API clients give none. */
  conversationId?: string;
}

interface Scheduled {
  atMs: number;
  request: Request;
  /** Pause after each turn's answer before the next, ms. */
  thinkMs: number[];
}

/** The evening, from one seed: the same for every policy. */
export function makeEvening(config: HomeEveningConfig): Scheduled[] {
  const next = mulberry32(config.seed);
  const words = [
    'the',
    'house',
    'energy',
    'bill',
    'solar',
    'kitchen',
    'garden',
    'school',
    'report',
    'meeting',
  ];
  const text = (chars: number) => {
    let out = '';
    while (out.length < chars) out += `${words[Math.floor(next() * words.length)]} `;
    return out.slice(0, chars);
  };
  const out: Scheduled[] = [];
  const D = config.durationMs;
  // Conversations over a long document: a UI chat (with an id) or an API client (none).
  for (let i = 0; i < config.conversations; i++) {
    const model = next() < 0.6 ? SMALL : BIG;
    out.push({
      atMs: next() * D * 0.7,
      request: {
        model,
        system: 'You answer questions about the document the user pastes.',
        turns: [
          `Here is a document:\n${text(4000 + Math.floor(next() * 8000))}\nSummarise it.`,
          ...Array.from({ length: config.turns - 1 }, (_, t) => `Question ${t + 1}: ${text(60)}?`),
        ],
        numPredict: 96,
        ...(i % 2 === 0 ? { conversationId: `conversation-${i}` } : {}),
      },
      thinkMs: Array.from({ length: config.turns }, () => (500 + next() * 2500) / (config.scale / 10)),
    });
  }
  // One-shot questions all evening (Poisson), and a coding assistant that sets its own num_ctx.
  for (let at = 0; ; ) {
    at += (-Math.log(1 - next()) / config.oneShotsPerSecond) * 1000;
    if (at > D) break;
    const r = next();
    const model = r < 0.5 ? SMALL : r < 0.85 ? BIG : CODER;
    out.push({
      atMs: at,
      request: {
        model,
        turns: [text(80 + Math.floor(next() * 400))],
        numPredict: 64,
        ...(model === CODER ? { numCtx: 16_384 } : {}),
      },
      thinkMs: [0],
    });
  }
  // Two bursts of long prompts (someone pastes reports into a script), with a larger context.
  for (const start of [0.25, 0.7]) {
    for (let k = 0; k < 5; k++) {
      out.push({
        atMs: start * D + next() * 500,
        request: {
          model: BIG,
          turns: [`Extract the figures:\n${text(10_000 + Math.floor(next() * 6000))}`],
          numPredict: 48,
          numCtx: 8192,
        },
        thinkMs: [0],
      });
    }
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

interface LiveNode {
  home: HomeNode;
  sim: Sim;
  models: CandidateModel[];
  inflight: number;
  gone: boolean;
  placed: number;
}

interface Outcome {
  ok: boolean;
  ttftMs: number;
  totalMs: number;
  coldLoad: boolean;
  /** Prompt tokens a conversation's later turn had evaluated: re-evaluated prefix plus the new question. */
  followUpPromptTokens: number;
  /** The answer's text, which the conversation's next turn sends back. */
  content: string;
}

interface PsResponse {
  models: Array<{ name: string; expires_at: string; context_length: number }>;
}
interface TagsResponse {
  models: Array<{ name: string; size: number; details?: { parameter_size?: string; family?: string } }>;
}

async function readModels(url: string): Promise<CandidateModel[]> {
  const [tags, ps] = (await Promise.all([
    fetch(`${url}/api/tags`).then((r) => r.json()),
    fetch(`${url}/api/ps`).then((r) => r.json()),
  ])) as [TagsResponse, PsResponse];
  const loaded = new Map(ps.models.map((m) => [m.name, m]));
  return tags.models.map((m) => {
    const running = loaded.get(m.name);
    const expires = running === undefined ? Number.NaN : Date.parse(running.expires_at);
    return {
      name: m.name,
      sizeBytes: m.size,
      loaded: running !== undefined,
      ...(running !== undefined ? { contextLength: running.context_length } : {}),
      ...(Number.isFinite(expires) ? { expiresAt: expires } : {}),
      ...(m.details?.parameter_size !== undefined ? { parameterSize: m.details.parameter_size } : {}),
      ...(m.details?.family !== undefined ? { family: m.details.family } : {}),
    };
  });
}

/**
 * Prompt tokens the node evaluated, as opposed to found in its KV cache. Ollama's
 * prompt_eval_count counts both; prompt_eval_duration covers only the evaluated ones, which
 * ollama-sim times as `ttftMs + tokens / promptEvalTokensPerSecond`.
 */
export function evaluatedTokens(final: Record<string, unknown>, profile: Profile): number {
  const ms = Number(final.prompt_eval_duration) / 1e6 - profile.ttftMs;
  return Math.max(0, Math.round((ms * profile.promptEvalTokensPerSecond) / 1000));
}

function toCandidate(node: LiveNode, measurements: PeerMeasurements): Candidate {
  const loadedBytes = node.models.filter((m) => m.loaded).reduce((sum, m) => sum + m.sizeBytes, 0);
  const free = node.home.profile.memoryBytes - loadedBytes;
  const gpu = node.home.profile.gpu === true;
  const slots = node.home.profile.parallelSlots;
  return {
    id: node.home.id,
    name: node.home.id,
    isLocal: false,
    status: node.gone ? 'gone' : 'online',
    cardIssuedAt: Date.now(),
    backendUp: true,
    models: node.models,
    memory: { ramFreeBytes: gpu ? 8 * GiB : free, vramFreeBytes: gpu ? free : 0, gpuCount: gpu ? 1 : 0 },
    load: {
      activeTasks: Math.min(node.inflight, slots),
      queueDepth: Math.max(0, node.inflight - slots),
      slots,
    },
    specializations: [],
    measured: measurements.forNode(node.home.id, 0.2),
  };
}

/** One policy's variant: which router it is, and whether it is told about conversations. */
interface Variant {
  policy: PlacementPolicy;
  affinity: boolean;
}

/** The policies side by side, fresh for each run. */
export function variants(seed: number): Variant[] {
  return [
    { policy: createAutoPolicy(), affinity: true },
    { policy: createAutoPolicy({}, 'auto, no affinity'), affinity: false },
    { policy: createAutoPolicy({ disabledTerms: ['load'] }, 'auto, no load term'), affinity: true },
    { policy: createLeastBusyPolicy(), affinity: false },
    { policy: createRandomPolicy(seed), affinity: false },
    { policy: createRoundRobinPolicy(), affinity: false },
  ];
}

/** One line of the report. */
export interface EveningRow extends Row {
  policy: string;
  requests: number;
  failed: number;
  'ttft p50 ms': number;
  'ttft p95 ms': number;
  'total p50 ms': number;
  'total p95 ms': number;
  'cold loads': number;
  'follow-up prompt tokens': number;
  /** Of this variant's placements, how many auto without the load term would have made elsewhere. */
  'load term decided': number;
  /** Of this variant's placements, how many auto without affinity would have made elsewhere. */
  'affinity decided': number;
}

/** Replays the evening against fresh sims with one policy. */
export async function runEvening(
  variant: Variant,
  evening: Scheduled[],
  config: HomeEveningConfig,
): Promise<EveningRow> {
  const nodes: LiveNode[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    for (const h of home(config.scale)) {
      const sim = await startOllamaSim({ profile: h.profile, models: h.models, preload: h.preload, port: 0 });
      nodes.push({ home: h, sim, models: await readModels(sim.url), inflight: 0, gone: false, placed: 0 });
    }
    const measurements = new PeerMeasurements();
    const affinities = new ConversationAffinities();
    // The counterfactuals, on the same candidates at the same moment: which decisions each term made.
    const withoutLoad = createAutoPolicy({ disabledTerms: ['load'] });
    const plain = createAutoPolicy();
    let loadDecided = 0;
    let affinityDecided = 0;
    const start = performance.now();
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
    timers.push(
      setInterval(() => {
        for (const node of nodes) {
          if (node.gone) continue;
          readModels(node.sim.url)
            .then((models) => {
              node.models = models;
            })
            .catch(() => {});
        }
      }, CARD_MS),
    );
    for (const node of nodes) {
      if (node.home.leavesAt === undefined) continue;
      timers.push(
        setTimeout(() => {
          node.gone = true;
          void node.sim.close();
        }, node.home.leavesAt * config.durationMs),
      );
    }

    const send = async (
      request: Request,
      messages: Array<{ role: string; content: string }>,
      followUp: boolean,
    ) => {
      const body = {
        model: request.model,
        messages,
        stream: true,
        options: {
          num_predict: request.numPredict,
          ...(request.numCtx !== undefined ? { num_ctx: request.numCtx } : {}),
        },
      };
      const promptTokens = promptTokensOf(body);
      // Every variant keeps track of conversations, so that what it learns of prompt speed is not
      // skewed by cached prefixes; "no affinity" only leaves them out of the placement.
      const key = affinities.keyOf(request.conversationId, body);
      const affinity = affinities.lookup(key, promptTokens);
      const task: Task = {
        model: request.model,
        promptTokens,
        maxTokens: request.numPredict,
        ...(request.numCtx !== undefined ? { numCtx: request.numCtx } : {}),
        ...(affinity !== undefined && variant.affinity ? { affinity } : {}),
        now: Date.now(),
      };
      const candidates = nodes.map((n) => toCandidate(n, measurements));
      const choice = variant.policy.rank(task, candidates).find((p) => p.eligible);
      const top = (ranked: ReturnType<PlacementPolicy['rank']>) => ranked.find((p) => p.eligible)?.nodeId;
      if (choice !== undefined) {
        if (top(withoutLoad.rank(task, candidates)) !== choice.nodeId) loadDecided++;
        const { affinity: _affinity, ...unaffine } = task;
        if (top(plain.rank(unaffine, candidates)) !== choice.nodeId) affinityDecided++;
      }
      const node = nodes.find((n) => n.home.id === choice?.nodeId);
      const failed: Outcome = {
        ok: false,
        ttftMs: Number.NaN,
        totalMs: Number.NaN,
        coldLoad: false,
        followUpPromptTokens: 0,
        content: '',
      };
      if (node === undefined || choice === undefined) return failed;
      const arrived = performance.now();
      node.inflight++;
      node.placed++;
      try {
        const response = await fetch(`${node.sim.url}/api/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(300_000),
        });
        if (!response.ok || response.body === null) {
          await response.body?.cancel();
          measurements.recordFailure(node.home.id);
          return failed;
        }
        let firstAt: number | undefined;
        let buffered = '';
        let content = '';
        let final: Record<string, unknown> | undefined;
        const decoder = new TextDecoder();
        for await (const bytes of response.body) {
          firstAt ??= performance.now();
          buffered += decoder.decode(bytes, { stream: true });
          let newline = buffered.indexOf('\n');
          while (newline >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            if (line !== '') {
              const object = JSON.parse(line) as { done?: boolean; message?: { content?: string } };
              content += object.message?.content ?? '';
              if (object.done === true) final = object as Record<string, unknown>;
            }
            newline = buffered.indexOf('\n');
          }
        }
        const end = performance.now();
        if (final === undefined || firstAt === undefined) {
          measurements.recordFailure(node.home.id);
          return failed;
        }
        const evalCount = Number(final.eval_count);
        const evalNs = Number(final.eval_duration);
        measurements.recordSuccess(node.home.id, choice.model, {
          ...(evalNs > 0 ? { tokensPerSecond: evalCount / (evalNs / 1e9) } : {}),
          ttftMs: firstAt - arrived,
          metrics: final,
          ...(choice.terms !== undefined ? { modelBytes: choice.terms.modelBytes } : {}),
          ...(affinity?.nodeId === node.home.id ? { cachedTokens: affinity.cachedTokens } : {}),
        });
        affinities.record(key, {
          nodeId: node.home.id,
          model: choice.model,
          tokens: turnTokens(promptTokens, final),
        });
        return {
          ok: true,
          ttftMs: firstAt - arrived,
          totalMs: end - arrived,
          coldLoad: Number(final.load_duration) >= COLD_LOAD_NS,
          followUpPromptTokens: followUp ? evaluatedTokens(final, node.home.profile) : 0,
          content,
        };
      } catch {
        measurements.recordFailure(node.home.id);
        return failed;
      } finally {
        node.inflight--;
      }
    };

    const outcomes: Outcome[] = [];
    await Promise.all(
      evening.map(async (item) => {
        await sleep(start + item.atMs - performance.now());
        const messages: Array<{ role: string; content: string }> = [];
        if (item.request.system !== undefined)
          messages.push({ role: 'system', content: item.request.system });
        for (const [t, turn] of item.request.turns.entries()) {
          messages.push({ role: 'user', content: turn });
          const outcome = await send(item.request, [...messages], t > 0);
          outcomes.push(outcome);
          // A failed turn ends the conversation: the person gives up.
          if (!outcome.ok) return;
          messages.push({ role: 'assistant', content: outcome.content });
          await sleep(item.thinkMs[t] ?? 0);
        }
      }),
    );
    const ok = outcomes.filter((o) => o.ok);
    const ttft = ok.map((o) => o.ttftMs);
    const total = ok.map((o) => o.totalMs);
    return {
      policy: variant.policy.name,
      requests: outcomes.length,
      failed: outcomes.length - ok.length,
      'ttft p50 ms': Math.round(percentile(ttft, 50)),
      'ttft p95 ms': Math.round(percentile(ttft, 95)),
      'total p50 ms': Math.round(percentile(total, 50)),
      'total p95 ms': Math.round(percentile(total, 95)),
      'cold loads': ok.filter((o) => o.coldLoad).length,
      'follow-up prompt tokens': ok.reduce((sum, o) => sum + o.followUpPromptTokens, 0),
      'load term decided': loadDecided,
      'affinity decided': affinityDecided,
      ...Object.fromEntries(nodes.map((n) => [`to ${n.home.id}`, n.placed])),
    };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    await Promise.all(nodes.filter((n) => !n.gone).map((n) => n.sim.close()));
  }
}
