/**
 * The server-side tool loop: the model is offered the agent's tools (Ollama's `tools`), each call
 * it makes is checked against its tool's schema and the agent's permissions, run, and answered
 * with a `tool` message (api/types.go Message: `tool_name`, `tool_call_id`); then the model is
 * asked again. Only the last turn, the one that answers in text, streams to the client, as
 * ordinary chunks, so a client that knows nothing of tools still gets the answer. Bounded by the
 * agent's `maxSteps` and a total time limit; at either it answers with what exists and says why.
 */
import { Value } from '@sinclair/typebox/value';
import type { OllamaObject } from '../backend/backend.js';
import type { AgentView } from '../contract/agents.js';
import { DomainError } from '../errors.js';
import { AnswerAggregate } from '../inference/aggregate.js';
import type { InferenceStream } from '../inference/gateway.js';
import {
  DEFAULT_TOOL_LOOP_TIME_LIMIT_MS,
  MAX_NOTE_RESULT_CHARS,
  MAX_TOOL_RESULT_CHARS,
} from './constants.js';
import { ToolArgumentsError, ToolRefusedError, UnknownToolError } from './errors.js';
import type { Tool } from './tool.js';
import type { ToolRegistry } from './tool-registry.js';

/** Starts one model turn: the gateway's `generate('chat', …)` or anything shaped like it. */
export type ChatFunction = (request: OllamaObject, signal: AbortSignal) => Promise<InferenceStream>;

/** One tool call as the loop ran (or refused) it, for the `allerac` metadata and the conversation. */
export interface ToolCallEvent {
  /** The model turn that made the call, from 1. */
  step: number;
  /** The tool's name as the model called it. */
  name: string;
  /** The arguments as the model gave them. */
  arguments: Record<string, unknown>;
  /** What the tool returned, when it ran. */
  result?: unknown;
  /** Why it did not run or failed: the error's class name and its message. */
  error?: { name: string; message: string };
  /** How long it took, ms. */
  durationMs: number;
  /** Whether the tool changes the world. */
  action: boolean;
}

/** Why a loop stopped before the model answered in text. */
export type ToolLoopStop = 'max-steps' | 'time-limit';

/** What one answer's tool loop needs. */
export interface ToolLoopOptions {
  /** The Ollama chat request, the agent's system prompt already in its messages. */
  request: OllamaObject;
  agent: AgentView;
  registry: ToolRegistry;
  chat: ChatFunction;
  /** The client's: aborting it ends the loop with its reason. */
  signal: AbortSignal;
  /** Called once per tool call, as soon as it finished. */
  onToolCall?: (event: ToolCallEvent) => void;
  /** The longest the loop may spend on tool turns, ms (DEFAULT_TOOL_LOOP_TIME_LIMIT_MS). */
  timeLimitMs?: number;
}

interface RawToolCall {
  id?: unknown;
  function?: { name?: unknown; arguments?: unknown };
}

/**
 * Runs the loop; resolves with the stream of the answer the client gets, whose `preparedFor()`
 * carries `toolCalls` (the events) and, when it stopped early, `toolLoopStopped`.
 */
export async function runToolLoop(options: ToolLoopOptions): Promise<InferenceStream> {
  const { agent, registry, chat, signal } = options;
  const tools = registry.forAgent(agent);
  if (tools.length === 0) return chat(options.request, signal);
  const timeLimitMs = options.timeLimitMs ?? DEFAULT_TOOL_LOOP_TIME_LIMIT_MS;
  // The limit bounds the tools and the turns that call them; the answering turn streams on its own time.
  const deadline = AbortSignal.timeout(timeLimitMs);
  const toolSignal = AbortSignal.any([signal, deadline]);
  const offered = ollamaTools(tools, agent);
  const messages = [...((options.request.messages as OllamaObject[] | undefined) ?? [])];
  const events: ToolCallEvent[] = [];
  const said: string[] = [];
  let firstChoice: string | undefined;
  let last: InferenceStream | undefined;

  for (let step = 1; step <= agent.tools.maxSteps; step++) {
    if (deadline.aborted)
      return stopped(options, 'time-limit', { said, events, firstChoice, last, timeLimitMs });
    const stream = await chat({ ...options.request, messages, tools: offered }, signal);
    firstChoice ??= stream.firstChoice;
    last = stream;
    const turn = await readTurn(stream, events);
    if (turn.kind === 'answer') return turn.stream;
    if (stream.answer.content.trim() !== '') said.push(stream.answer.content.trim());
    messages.push({
      role: 'assistant',
      content: stream.answer.content,
      ...(stream.answer.thinking !== '' ? { thinking: stream.answer.thinking } : {}),
      tool_calls: turn.calls,
    });
    for (const call of turn.calls) {
      const event = await runCall(call, step, registry, agent, toolSignal);
      events.push(event);
      options.onToolCall?.(event);
      if (signal.aborted) throw signal.reason;
      messages.push({
        role: 'tool',
        tool_name: event.name,
        ...(typeof call.id === 'string' && call.id !== '' ? { tool_call_id: call.id } : {}),
        content: toolMessage(event),
      });
    }
  }
  return stopped(options, deadline.aborted ? 'time-limit' : 'max-steps', {
    said,
    events,
    firstChoice,
    last,
    timeLimitMs,
  });
}

/** The agent's tools in Ollama's `tools` shape (api.Tool), telling the model which it may not use. */
export function ollamaTools(tools: readonly Tool[], agent: AgentView): OllamaObject[] {
  return tools.map((tool) => ({
    type: 'function',
    function: {
      name: tool.name,
      description:
        tool.action && !agent.tools.allowActions
          ? `${tool.description} This assistant may not take actions, so a call to it is refused.`
          : tool.description,
      // Through JSON: TypeBox's symbol keys stay behind, as the wire would leave them.
      parameters: JSON.parse(JSON.stringify(tool.parameters)) as unknown,
    },
  }));
}

type Turn = { kind: 'answer'; stream: InferenceStream } | { kind: 'tools'; calls: RawToolCall[] };

/**
 * Reads a turn until it is clearly an answer (text arrives) or ends with tool calls. Chunks read
 * before text (thinking, empty ones) are kept so that an answer streams whole.
 */
async function readTurn(stream: InferenceStream, events: ToolCallEvent[]): Promise<Turn> {
  const iterator = chunksOf(stream.rest);
  const held: OllamaObject[] = [];
  const calls: RawToolCall[] = [];
  let chunk: OllamaObject | undefined = stream.first;
  while (chunk !== undefined) {
    held.push(chunk);
    const message = chunk.message as { content?: unknown; tool_calls?: unknown } | undefined;
    // Ollama's final chunk of a stream carries no calls; a non-streamed one repeats them all.
    if (Array.isArray(message?.tool_calls) && !(chunk.done === true && calls.length > 0))
      calls.push(...(message.tool_calls as RawToolCall[]));
    if (calls.length === 0 && typeof message?.content === 'string' && message.content.trim() !== '') {
      if (chunk.done === true) await iterator.return(undefined);
      return { kind: 'answer', stream: answerStream(stream, held, iterator, events) };
    }
    if (chunk.done === true) break;
    const next = await iterator.next();
    chunk = next.done ? undefined : next.value;
  }
  // The gateway frees the node's slot when its stream ends, not at the `done` chunk.
  await iterator.return(undefined);
  if (calls.length > 0) return { kind: 'tools', calls };
  return { kind: 'answer', stream: answerStream(stream, held, iterator, events) };
}

/**
 * The chunks of an answer's batches one by one: a turn is read chunk by chunk until it is clearly
 * an answer. Returning it closes the answer even before it was read, as a generator never started
 * would not: that close frees the serving node's slot.
 */
function chunksOf(batches: AsyncIterable<readonly OllamaObject[]>): AsyncGenerator<OllamaObject> {
  const source = batches[Symbol.asyncIterator]();
  const chunks = (async function* () {
    for (;;) {
      const next = await source.next();
      if (next.done === true) return;
      yield* next.value;
    }
  })();
  const returnChunks = chunks.return.bind(chunks);
  chunks.return = async (value) => {
    await source.return?.();
    return returnChunks(value);
  };
  return chunks;
}

/** The answering turn as the client gets it: the held chunks, then the rest, without tool calls. */
function answerStream(
  inner: InferenceStream,
  held: OllamaObject[],
  iterator: AsyncIterator<OllamaObject>,
  events: ToolCallEvent[],
): InferenceStream {
  const [first, ...queued] = held.map(withoutToolCalls);
  async function* rest(): AsyncGenerator<readonly OllamaObject[]> {
    try {
      if (queued.length > 0) yield queued;
      if (queued.at(-1)?.done === true || first?.done === true) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield [withoutToolCalls(next.value)];
        if (next.value.done === true) return;
      }
    } finally {
      // Ended early or at `done`: the gateway's stream is closed either way, freeing its slot.
      await iterator.return?.();
    }
  }
  return {
    firstChoice: inner.firstChoice,
    first: first!,
    rest: rest(),
    answer: inner.answer,
    servedBy: () => inner.servedBy(),
    preparedFor: () => ({ ...inner.preparedFor(), ...(events.length > 0 ? { toolCalls: events } : {}) }),
  };
}

/** A call the model makes after it began its answer is not run: the client gets the text only. */
function withoutToolCalls(chunk: OllamaObject): OllamaObject {
  const message = chunk.message as Record<string, unknown> | undefined;
  if (message === undefined || !('tool_calls' in message)) return chunk;
  const { tool_calls: _dropped, ...rest } = message;
  return { ...chunk, message: rest };
}

async function runCall(
  call: RawToolCall,
  step: number,
  registry: ToolRegistry,
  agent: AgentView,
  signal: AbortSignal,
): Promise<ToolCallEvent> {
  const name = typeof call.function?.name === 'string' ? call.function.name : '';
  const args = isRecord(call.function?.arguments) ? call.function.arguments : {};
  const tool = agent.tools.allowed.includes(name) ? registry.get(name) : undefined;
  const started = performance.now();
  const event = (outcome: { result: unknown } | { error: unknown }): ToolCallEvent => ({
    step,
    name,
    arguments: args,
    ...('result' in outcome ? { result: outcome.result } : { error: describe(outcome.error, signal) }),
    durationMs: Math.round(performance.now() - started),
    action: tool?.action ?? false,
  });
  try {
    if (tool === undefined) {
      throw registry.get(name) === undefined
        ? new UnknownToolError(name)
        : new ToolRefusedError(`${name} is not among the tools this assistant may use`);
    }
    if (tool.action && !agent.tools.allowActions) {
      throw new ToolRefusedError(
        `${name} changes things in the home, and this assistant is not allowed to take actions; tell the user it was not done`,
      );
    }
    if (!isRecord(call.function?.arguments) || !Value.Check(tool.parameters, args)) {
      const problems = [...Value.Errors(tool.parameters, args)]
        .slice(0, 3)
        .map((e) => `${e.path === '' ? 'arguments' : e.path.slice(1)}: ${e.message}`);
      throw new ToolArgumentsError(`invalid arguments for ${name}: ${problems.join('; ')}`);
    }
    return event({ result: await tool.run(args, { agent, signal }) });
  } catch (error) {
    return event({ error });
  }
}

function describe(error: unknown, signal: AbortSignal): { name: string; message: string } {
  if (error instanceof DomainError) return { name: error.name, message: error.message };
  if (signal.aborted) {
    return {
      name: 'ToolTimeoutError',
      message: 'the tool did not finish within the time this answer may take',
    };
  }
  // Anything else is a bug in a tool: the model is told it failed, not the internals.
  return { name: 'ToolFailedError', message: 'the tool failed unexpectedly' };
}

/** The `tool` message's content: the result as JSON, or the error for the model to act on. */
function toolMessage(event: ToolCallEvent): string {
  if (event.error !== undefined) return `Error (${event.error.name}): ${event.error.message}`;
  const text = JSON.stringify(event.result ?? null);
  return text.length > MAX_TOOL_RESULT_CHARS
    ? `${text.slice(0, MAX_TOOL_RESULT_CHARS)}… (cut: the result was ${text.length} characters)`
    : text;
}

interface StopState {
  said: string[];
  events: ToolCallEvent[];
  firstChoice: string | undefined;
  last: InferenceStream | undefined;
  timeLimitMs: number;
}

/** The answer of a loop that ran out of steps or time: what the model said, the last results, and why. */
function stopped(options: ToolLoopOptions, why: ToolLoopStop, state: StopState): InferenceStream {
  const { agent, request } = options;
  const reason =
    why === 'max-steps'
      ? `I stopped after ${agent.tools.maxSteps} step${agent.tools.maxSteps === 1 ? '' : 's'}, the most this assistant may take for one answer`
      : `I stopped because this answer reached its time limit of ${Math.round(state.timeLimitMs / 1000)} s`;
  const lastStep = state.events.at(-1)?.step;
  const results = state.events
    .filter((event) => event.step === lastStep)
    .map((event) => {
      const outcome =
        event.error !== undefined
          ? `failed: ${event.error.message}`
          : `returned ${JSON.stringify(event.result ?? null)}`;
      return `- ${event.name} ${outcome.length > MAX_NOTE_RESULT_CHARS ? `${outcome.slice(0, MAX_NOTE_RESULT_CHARS)}…` : outcome}`;
    });
  const text = [
    ...state.said,
    `(${reason}, before I could finish.${results.length > 0 ? ' The last tool calls:' : ''})`,
    ...results,
  ].join('\n\n');
  const model = request.model;
  const now = new Date().toISOString();
  const first: OllamaObject = {
    model,
    created_at: now,
    message: { role: 'assistant', content: text },
    done: false,
  };
  const done: OllamaObject = {
    model,
    created_at: now,
    message: { role: 'assistant', content: '' },
    done_reason: 'stop',
    done: true,
  };
  const answer = new AnswerAggregate('chat');
  answer.add(first);
  async function* rest(): AsyncGenerator<readonly OllamaObject[]> {
    answer.add(done);
    yield [done];
  }
  const last = state.last;
  return {
    firstChoice: state.firstChoice ?? '',
    first,
    rest: rest(),
    answer,
    servedBy: () => last?.servedBy() ?? { node: '', failovers: 0 },
    preparedFor: () => ({ ...(last?.preparedFor() ?? {}), toolCalls: state.events, toolLoopStopped: why }),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
