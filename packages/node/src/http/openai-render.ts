/**
 * Ollama's answers in OpenAI's shapes, ported from Ollama's openai/openai.go (ToChatCompletion,
 * ToStreamChunks, FinishChunk, ToCompletion, ToCompleteChunk, ToUsage, ToToolCalls,
 * ToListCompletion) and the stream rules of its middleware/openai.go (ChatWriter, CompleteWriter):
 * the role only on the first delta, thinking as `reasoning` in its own delta, the empty trailer
 * left out, `finish_reason` on a chunk of its own and `tool_calls` once a tool call went out.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { OllamaObject } from '../backend/backend.js';
import type { ServedBy } from '../inference/gateway.js';

/** The fingerprint Ollama's /v1 reports: to its clients the whole mesh is one Ollama. */
export const SYSTEM_FINGERPRINT = 'fp_ollama';

/** An OpenAI tool call: its arguments are a JSON string. */
export interface OpenAiToolCall {
  id: string;
  index: number;
  type: 'function';
  function: { name: string; arguments: string };
}

/** OpenAI's token counts. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** An Ollama /api/chat chunk (api.ChatResponse), read defensively: fields default as in Go. */
export interface ChatResponse {
  createdAt: number | undefined;
  role: string;
  content: string;
  thinking: string;
  toolCalls: OllamaToolCallOut[];
  done: boolean;
  doneReason: string;
  promptEvalCount: number;
  evalCount: number;
  logprobs: unknown[];
  debugInfo: unknown;
}

/** An Ollama tool call as a model produced it. */
export interface OllamaToolCallOut {
  id?: unknown;
  function?: { index?: unknown; name?: unknown; arguments?: unknown };
}

/** An Ollama /api/generate chunk (api.GenerateResponse). */
export interface GenerateResponse {
  createdAt: number | undefined;
  response: string;
  done: boolean;
  doneReason: string;
  promptEvalCount: number;
  evalCount: number;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const int = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** Unix seconds of an RFC 3339 time; undefined for none (or Go's zero time). */
function unixOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) || ms < 0 ? undefined : Math.floor(ms / 1000);
}

/** Now, in Unix seconds. */
export const unixNow = (): number => Math.floor(Date.now() / 1000);

/** Reads an Ollama chat chunk. */
export function readChatResponse(chunk: OllamaObject): ChatResponse {
  const message = (
    typeof chunk.message === 'object' && chunk.message !== null ? chunk.message : {}
  ) as Record<string, unknown>;
  return {
    createdAt: unixOf(chunk.created_at),
    role: str(message.role),
    content: str(message.content),
    thinking: str(message.thinking),
    toolCalls: Array.isArray(message.tool_calls) ? (message.tool_calls as OllamaToolCallOut[]) : [],
    done: chunk.done === true,
    doneReason: str(chunk.done_reason),
    promptEvalCount: int(chunk.prompt_eval_count),
    evalCount: int(chunk.eval_count),
    logprobs: Array.isArray(chunk.logprobs) ? chunk.logprobs : [],
    debugInfo: chunk.debug_info,
  };
}

/** Reads an Ollama generate chunk. */
export function readGenerateResponse(chunk: OllamaObject): GenerateResponse {
  return {
    createdAt: unixOf(chunk.created_at),
    response: str(chunk.response),
    done: chunk.done === true,
    doneReason: str(chunk.done_reason),
    promptEvalCount: int(chunk.prompt_eval_count),
    evalCount: int(chunk.eval_count),
  };
}

/** A chat completion id; any unique string serves. */
export const chatCompletionId = (): string => `chatcmpl-${randomBytes(12).toString('hex')}`;
/** A text completion id. */
export const completionId = (): string => `cmpl-${randomBytes(12).toString('hex')}`;

const CALL_ID_LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** A tool call id as Ollama makes one (`call_` and 8 letters or digits). */
export function toolCallId(): string {
  let id = 'call_';
  for (let i = 0; i < 8; i++) id += CALL_ID_LETTERS[randomInt(CALL_ID_LETTERS.length)];
  return id;
}

/**
 * Ollama's tool calls in OpenAI's shape. Ollama gives each call an id and an index; where a
 * backend left one out, the call gets a fresh id (a client answers the call by it) and its
 * position from `firstIndex` (a streaming client merges deltas by index).
 */
export function toToolCalls(calls: readonly OllamaToolCallOut[], firstIndex = 0): OpenAiToolCall[] {
  return calls.map((call, i) => {
    const fn = call.function ?? {};
    const id = str(call.id);
    return {
      id: id === '' ? toolCallId() : id,
      index: typeof fn.index === 'number' ? fn.index : firstIndex + i,
      type: 'function',
      function: { name: str(fn.name), arguments: JSON.stringify(fn.arguments ?? {}) },
    };
  });
}

/** Token counts from the final chunk. */
export function toUsage(r: { promptEvalCount: number; evalCount: number }): Usage {
  return {
    prompt_tokens: r.promptEvalCount,
    completion_tokens: r.evalCount,
    total_tokens: r.promptEvalCount + r.evalCount,
  };
}

/** A whole chat answer (`stream: false`) as a chat.completion. */
export function toChatCompletion(
  id: string,
  model: string,
  r: ChatResponse,
  servedBy?: ServedBy | Record<string, unknown>,
): Record<string, unknown> {
  const toolCalls = toToolCalls(r.toolCalls);
  const message: Record<string, unknown> = { role: r.role || 'assistant', content: r.content };
  if (r.thinking !== '') message.reasoning = r.thinking;
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  let reason: string | null = r.doneReason === '' ? null : r.doneReason;
  // Only a model that stopped by itself has stopped to call its tools; `length` stays `length`.
  if (reason === 'stop' && toolCalls.length > 0) reason = 'tool_calls';
  const choice: Record<string, unknown> = { index: 0, message, finish_reason: reason };
  if (r.logprobs.length > 0) choice.logprobs = { content: r.logprobs };
  return {
    id,
    object: 'chat.completion',
    created: r.createdAt ?? unixNow(),
    model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [choice],
    usage: toUsage(r),
    ...(r.debugInfo === undefined ? {} : { _debug_info: r.debugInfo }),
    ...(servedBy === undefined ? {} : { allerac: servedBy }),
  };
}

/**
 * Turns one chat stream's Ollama chunks into chat.completion.chunk objects, keeping what the
 * stream needs across chunks: whether the role went out, whether a tool call did, the one
 * `created` every chunk shares, and how many tool calls were numbered so far.
 */
export class ChatChunkStream {
  private firstChunkSent = false;
  private toolCallSent = false;
  private toolCallsNumbered = 0;
  private created: number | undefined;

  constructor(
    private readonly id: string,
    private readonly model: string,
    private readonly includeUsage: boolean,
  ) {}

  /** The chunks for one Ollama chunk; the final one's finish chunk carries `allerac`. */
  render(chunk: OllamaObject, servedBy?: ServedBy | Record<string, unknown>): Record<string, unknown>[] {
    const r = readChatResponse(chunk);
    // OpenAI stamps one `created` on every chunk of a stream: the first response's.
    this.created ??= r.createdAt ?? unixNow();
    const out: Record<string, unknown>[] = [];
    // The metrics-only final chunk is no content: OpenAI goes from the last content to the finish.
    const emptyTrailer =
      r.done &&
      this.firstChunkSent &&
      r.content === '' &&
      r.thinking === '' &&
      r.toolCalls.length === 0 &&
      r.logprobs.length === 0;
    if (!emptyTrailer) {
      for (const c of this.toStreamChunks(r)) {
        if ((c.delta as { tool_calls?: unknown }).tool_calls !== undefined) this.toolCallSent = true;
        out.push(this.wrap([c]));
      }
      this.firstChunkSent = true;
    }
    if (r.done) {
      let reason = r.doneReason || 'stop';
      // Only `stop` becomes `tool_calls`: a cut-off or unknown reason is passed on as it is.
      if (reason === 'stop' && this.toolCallSent) reason = 'tool_calls';
      const finish = this.wrap([{ index: 0, delta: {}, finish_reason: reason }]);
      out.push(servedBy === undefined ? finish : { ...finish, allerac: servedBy });
      if (this.includeUsage) out.push({ ...finish, choices: [], usage: toUsage(r) });
    }
    return out;
  }

  /** One chunk's choices; thinking beside content or tool calls goes out first, on its own. */
  private toStreamChunks(r: ChatResponse): Record<string, unknown>[] {
    const includeRole = !this.firstChunkSent;
    const toolCalls = toToolCalls(r.toolCalls, this.toolCallsNumbered);
    this.toolCallsNumbered += toolCalls.length;
    const logprobs = r.logprobs.length > 0 ? { logprobs: { content: r.logprobs } } : {};
    const role = includeRole ? { role: 'assistant' } : {};
    const mixed = r.thinking !== '' && (r.content !== '' || toolCalls.length > 0);
    if (!mixed) {
      const delta: Record<string, unknown> = { ...role, content: r.content };
      if (r.thinking !== '') delta.reasoning = r.thinking;
      if (toolCalls.length > 0) delta.tool_calls = toolCalls;
      return [{ index: 0, delta, finish_reason: null, ...logprobs }];
    }
    const rest: Record<string, unknown> = { content: r.content };
    if (toolCalls.length > 0) rest.tool_calls = toolCalls;
    return [
      { index: 0, delta: { ...role, reasoning: r.thinking }, finish_reason: null, ...logprobs },
      { index: 0, delta: rest, finish_reason: null },
    ];
  }

  private wrap(choices: Record<string, unknown>[]): Record<string, unknown> {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices,
    };
  }
}

/** A whole generate answer (`stream: false`) as a text_completion. */
export function toCompletion(
  id: string,
  model: string,
  r: GenerateResponse,
  servedBy?: ServedBy | Record<string, unknown>,
): Record<string, unknown> {
  return {
    id,
    object: 'text_completion',
    created: r.createdAt ?? unixNow(),
    model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ text: r.response, index: 0, finish_reason: r.doneReason === '' ? null : r.doneReason }],
    usage: toUsage(r),
    ...(servedBy === undefined ? {} : { allerac: servedBy }),
  };
}

/** The text_completion chunks for one Ollama generate chunk (Ollama's CompleteWriter). */
export function toCompletionChunks(
  id: string,
  model: string,
  chunk: OllamaObject,
  includeUsage: boolean,
  servedBy?: ServedBy | Record<string, unknown>,
): Record<string, unknown>[] {
  const r = readGenerateResponse(chunk);
  const c: Record<string, unknown> = {
    id,
    object: 'text_completion',
    created: unixNow(),
    choices: [{ text: r.response, index: 0, finish_reason: r.doneReason === '' ? null : r.doneReason }],
    model,
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
  // Ollama puts zero usage on every chunk when usage is asked for, the real counts on a last one.
  if (includeUsage) c.usage = toUsage({ promptEvalCount: 0, evalCount: 0 });
  const out = [servedBy === undefined || !r.done ? c : { ...c, allerac: servedBy }];
  if (r.done && includeUsage) out.push({ ...c, choices: [], usage: toUsage(r) });
  return out;
}

/** An /api/tags model as an OpenAI model (ToListCompletion, ToModel). */
export function toOpenAiModel(id: string, modifiedAt: string | undefined): Record<string, unknown> {
  return { id, object: 'model', created: unixOf(modifiedAt) ?? 0, owned_by: namespaceOf(id) };
}

/** The namespace of an Ollama model name (`library` unless the name has one: `user/model`). */
export function namespaceOf(name: string): string {
  const lastColon = name.lastIndexOf(':');
  const untagged = lastColon > name.lastIndexOf('/') ? name.slice(0, lastColon) : name;
  const parts = untagged.split('/');
  return parts.length >= 2 && parts.at(-2) !== '' ? (parts.at(-2) as string) : 'library';
}
