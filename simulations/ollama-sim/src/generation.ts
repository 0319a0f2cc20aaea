/**
 * Timed token streaming. Tokens are due at fixed times from the first token on; each tick emits
 * every token that is due (one NDJSON line each) so high rates need no timer per token, and the
 * schedule is absolute so delays do not accumulate. Backpressure pauses until 'drain'.
 */
import type { ServerResponse } from 'node:http';
import { parameterBillions } from './catalog.js';
import type { ClientWatch } from './client-watch.js';
import { OllamaApiError, SERVER_BUSY } from './errors.js';
import { sendJson } from './http-util.js';
import type { InstalledModel } from './models.js';
import type { PromptSegment } from './prompt-cache.js';
import type { ReplyPiece } from './reply.js';
import type { SimState, Stoppable } from './state.js';
import type { ToolCall } from './text.js';

/** Metrics Ollama puts in the final object, in nanoseconds and counts. */
export interface GenerationMetrics {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

/** A whole reply, as a non-streamed answer carries it. */
export interface ReplyText {
  content: string;
  thinking: string;
  toolCalls: ToolCall[];
}

/** What to generate and how each endpoint shapes its objects. */
export interface GenerationSpec {
  entry: InstalledModel;
  /** One per generated token; a piece with no text and no tool call sends nothing (a call being parsed). */
  pieces: ReplyPiece[];
  promptTokens: number;
  /** The prompt as segments, for the KV cache; without it nothing is reused. */
  promptSegments?: readonly PromptSegment[];
  /** The answer as the segment a next turn repeats, from the reply's text. */
  replySegment?: (content: string) => PromptSegment;
  /** `options.num_ctx`, when the request sets it. */
  numCtx?: number | undefined;
  stream: boolean;
  keepAliveMs: number | undefined;
  /** performance.now() when the request arrived, for total_duration. */
  startedAt: number;
  /** One streamed object (without newline) carrying `piece`. */
  chunk(piece: ReplyPiece, createdAt: string): string;
  /** The final object; `reply` is empty when streamed and the whole reply otherwise. */
  final(reply: ReplyText, metrics: GenerationMetrics, createdAt: string): unknown;
}

type Outcome = 'done' | 'aborted' | 'crashed' | 'stopped';

const NS_PER_MS = 1e6;

/** Generation speed of a model on this hardware: larger models are proportionally slower. */
export function tokensPerSecondFor(state: SimState, entry: InstalledModel): number {
  const { tokensPerSecond, referenceParamsB } = state.profile;
  return (tokensPerSecond * referenceParamsB) / parameterBillions(entry.model.parameterSize);
}

/** Waits for `promise` unless the client leaves first. */
async function unlessGone<T>(promise: Promise<T>, client: ClientWatch): Promise<{ value: T } | undefined> {
  const result = await Promise.race([promise.then((value) => ({ value })), client.whenGone]);
  return result === 'gone' ? undefined : result;
}

/** Queues for a slot, loads the model and streams the answer; counts the outcome. */
export async function runGeneration(
  state: SimState,
  res: ServerResponse,
  client: ClientWatch,
  spec: GenerationSpec,
): Promise<void> {
  const ticket = state.scheduler.acquire();
  if (ticket === undefined) {
    state.counters.rejected++;
    throw new OllamaApiError(503, SERVER_BUSY);
  }
  try {
    if ((await unlessGone(ticket.ready, client)) === undefined) {
      state.counters.cancelled++;
      return;
    }
    const leasePromise = state.store.acquire(spec.entry, spec.numCtx);
    const leased = await unlessGone(leasePromise, client);
    if (leased === undefined) {
      leasePromise.then((lease) => lease.release(spec.keepAliveMs)).catch(() => {});
      state.counters.cancelled++;
      return;
    }
    const lease = leased.value;
    const slot = spec.promptSegments === undefined ? undefined : lease.loaded.cache.take(spec.promptSegments);
    let outcome: Outcome;
    try {
      outcome = await streamTokens(state, res, client, spec, lease.loadMs, slot?.cachedTokens ?? 0);
      if (outcome === 'done' && spec.promptSegments !== undefined) {
        const content = spec.pieces.map((piece) => piece.content).join('');
        const answer = spec.replySegment?.(content);
        slot?.store(answer === undefined ? spec.promptSegments : [...spec.promptSegments, answer]);
      }
    } finally {
      slot?.release();
    }
    if (outcome !== 'crashed') lease.release(spec.keepAliveMs);
    if (outcome === 'done') state.counters.completed++;
    if (outcome === 'aborted') state.counters.cancelled++;
  } finally {
    ticket.release();
  }
}

function streamTokens(
  state: SimState,
  res: ServerResponse,
  client: ClientWatch,
  spec: GenerationSpec,
  loadMs: number,
  cachedTokens: number,
): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const { pieces, stream } = spec;
    const total = pieces.length;
    const profile = state.profile;
    const interval = 1000 / tokensPerSecondFor(state, spec.entry);
    // Only the tokens not found in the slot's cache take time; prompt_eval_count still counts the
    // whole prompt, as Ollama reports it (llm/llama_server.go, promptEvalCount = cache_n + prompt_n,
    // "Ollama's pre-0.30 full-context prompt_eval_count semantics"; the old runners reported
    // numPromptInputs, set before LoadCacheSlot cut the cached prefix).
    const evaluated = spec.promptTokens - cachedTokens;
    const promptEvalMs = profile.ttftMs + (evaluated / profile.promptEvalTokensPerSecond) * 1000;
    const firstDue = performance.now() + promptEvalMs;
    let sent = 0;
    const reply: ReplyText = { content: '', thinking: '', toolCalls: [] };
    let timer: NodeJS.Timeout | undefined;
    let finished = false;

    const finish = (outcome: Outcome) => {
      if (finished) return;
      finished = true;
      state.clearTimer(timer);
      res.off('drain', tick);
      state.running.delete(stopper);
      resolve(outcome);
    };
    const stopper: Stoppable = { stop: () => finish('stopped') };
    state.running.add(stopper);
    client.onGone(() => finish('aborted'));

    const startStream = () => {
      if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    };

    const crash = () => {
      finish('crashed');
      state.crash();
    };

    function tick(): void {
      timer = undefined;
      if (finished) return;
      const now = performance.now();
      const due = now < firstDue ? 0 : Math.min(total, Math.floor((now - firstDue) / interval) + 1);
      const { exitAfterTokens, stallAfterTokens } = state.faults.plan;
      const exitAt = exitAfterTokens !== undefined && exitAfterTokens < total ? exitAfterTokens : undefined;
      const stallAt =
        stallAfterTokens !== undefined && stallAfterTokens < total ? stallAfterTokens : undefined;
      const limit = Math.min(due, exitAt ?? total, stallAt ?? total);
      let batch = '';
      if (sent < limit) {
        const createdAt = new Date().toISOString();
        state.counters.tokens += limit - sent;
        for (; sent < limit; sent++) {
          const piece = pieces[sent]!;
          const visible = piece.content !== '' || piece.thinking !== '' || piece.toolCalls !== undefined;
          if (stream) {
            if (visible) batch += `${spec.chunk(piece, createdAt)}\n`;
          } else {
            reply.content += piece.content;
            reply.thinking += piece.thinking;
            if (piece.toolCalls !== undefined) reply.toolCalls.push(...piece.toolCalls);
          }
        }
      }
      let writable = true;
      if (batch !== '') {
        startStream();
        writable = res.write(batch, exitAt !== undefined && sent >= exitAt ? crash : undefined);
        if (exitAt !== undefined && sent >= exitAt) return;
      }
      if (exitAt !== undefined && sent >= exitAt) {
        crash();
        return;
      }
      if (stallAt !== undefined && sent >= stallAt) return; // hold the connection until the client leaves
      if (sent >= total) {
        complete();
        return;
      }
      if (!writable) {
        res.once('drain', tick);
        return;
      }
      timer = state.setTimer(tick, firstDue + sent * interval - performance.now());
    }

    function complete(): void {
      const end = performance.now();
      const metrics: GenerationMetrics = {
        total_duration: Math.round((end - spec.startedAt) * NS_PER_MS),
        load_duration: Math.round(loadMs * NS_PER_MS),
        prompt_eval_count: spec.promptTokens,
        prompt_eval_duration: Math.round(promptEvalMs * NS_PER_MS),
        eval_count: total,
        eval_duration: Math.max(1, Math.round((end - (firstDue - interval)) * NS_PER_MS)),
      };
      const createdAt = new Date().toISOString();
      if (stream) {
        startStream();
        res.end(
          `${JSON.stringify(spec.final({ content: '', thinking: '', toolCalls: [] }, metrics, createdAt))}\n`,
        );
      } else {
        sendJson(res, 200, spec.final(reply, metrics, createdAt));
      }
      finish('done');
    }

    timer = state.setTimer(tick, firstDue - performance.now());
  });
}
