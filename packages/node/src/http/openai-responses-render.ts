/**
 * Ollama chat answers as Responses API objects and stream events, ported from Ollama's
 * openai/responses.go (ToResponse, ResponsesStreamConverter). Where Ollama's events would trip
 * the official SDK's stream accumulator, OpenAI's own sequence is followed instead: a reasoning
 * summary part is added before its text deltas, and an open message item is closed before a
 * function call takes the next output index. A truncated answer is `incomplete`, as OpenAI says.
 */
import { randomBytes } from 'node:crypto';
import type { OllamaObject } from '../backend/backend.js';
import type { ServedBy } from '../inference/gateway.js';
import type { HttpError } from './errors.js';
import { type ChatResponse, readChatResponse, toToolCalls, unixNow } from './openai-render.js';
import type { ResponsesRequest } from './openai-schemas.js';

type Json = Record<string, unknown>;

/** A response id. */
export const responseId = (): string => `resp_${randomBytes(12).toString('hex')}`;
/** An output item id with a prefix (`msg`, `rs`, `fc`). */
export const itemId = (prefix: string): string => `${prefix}_${randomBytes(12).toString('hex')}`;

/** One Server-Sent Event of a Responses stream. */
export interface ResponsesStreamEvent {
  event: string;
  data: Json;
}

/** Token counts in the Responses shape. */
function usageOf(r: Pick<ChatResponse, 'promptEvalCount' | 'evalCount'>): Json {
  return {
    input_tokens: r.promptEvalCount,
    output_tokens: r.evalCount,
    total_tokens: r.promptEvalCount + r.evalCount,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens_details: { reasoning_tokens: 0 },
  };
}

/** The request's echo in every response object, with OpenAI's defaults. */
function responseObject(
  request: ResponsesRequest,
  fields: {
    id: string;
    model: string;
    createdAt: number;
    status: string;
    output: Json[];
    usage: Json | null;
  },
): Json {
  const format = request.text?.format;
  const textFormat: Json = format
    ? {
        type: format.type,
        ...(format.name ? { name: format.name } : {}),
        ...(format.schema !== undefined && format.schema !== null ? { schema: format.schema } : {}),
        ...(typeof format.strict === 'boolean' ? { strict: format.strict } : {}),
      }
    : { type: 'text' };
  const effort = request.reasoning?.effort;
  const summary = request.reasoning?.summary;
  return {
    id: fields.id,
    object: 'response',
    created_at: fields.createdAt,
    completed_at: null,
    status: fields.status,
    incomplete_details: null,
    model: fields.model,
    previous_response_id: null,
    instructions: request.instructions || null,
    output: fields.output,
    error: null,
    tools: (request.tools ?? []).map((tool) => ({
      type: tool.type ?? '',
      name: tool.name ?? '',
      description: tool.description ?? null,
      strict: tool.strict ?? null,
      parameters: tool.parameters ?? null,
      ...(tool.tools ? { tools: tool.tools } : {}),
    })),
    tool_choice: 'auto',
    truncation: request.truncation ?? 'disabled',
    parallel_tool_calls: true,
    text: { format: textFormat },
    top_p: request.top_p ?? 1.0,
    presence_penalty: 0,
    frequency_penalty: 0,
    top_logprobs: 0,
    temperature: request.temperature ?? 1.0,
    reasoning: effort || summary ? { effort: effort || null, summary: summary || null } : null,
    usage: fields.usage,
    max_output_tokens: request.max_output_tokens ?? null,
    max_tool_calls: null,
    store: false,
    background: false,
    service_tier: 'default',
    metadata: {},
    safety_identifier: null,
    prompt_cache_key: null,
  };
}

/** `completed`, or `incomplete` when the answer was cut at its token limit. */
function finalStatus(r: ChatResponse): { status: string; incomplete_details: Json | null } {
  return r.doneReason === 'length'
    ? { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } }
    : { status: 'completed', incomplete_details: null };
}

const textPart = (text: string): Json => ({ type: 'output_text', text, annotations: [], logprobs: [] });

const messageItem = (id: string, text: string, status: string): Json => ({
  id,
  type: 'message',
  status,
  role: 'assistant',
  content: status === 'in_progress' ? [] : [textPart(text)],
});

const reasoningItem = (id: string, thinking: string): Json => ({
  id,
  type: 'reasoning',
  summary: [{ type: 'summary_text', text: thinking }],
  // Plain text, as Ollama sends it: a client passes it back as the reasoning of its next turn.
  encrypted_content: thinking,
});

/** A whole chat answer (`stream: false`) as a response object. */
export function toResponse(
  id: string,
  messageId: string,
  model: string,
  chunk: OllamaObject,
  request: ResponsesRequest,
  servedBy?: ServedBy | Json,
): Json {
  const r = readChatResponse(chunk);
  const output: Json[] = [];
  if (r.thinking !== '') output.push(reasoningItem(`rs_${id}`, r.thinking));
  const calls = toToolCalls(r.toolCalls);
  // Ollama drops text beside tool calls; OpenAI keeps both, as the stream does.
  if (r.content !== '' || calls.length === 0) output.push(messageItem(messageId, r.content, 'completed'));
  calls.forEach((call, i) => {
    output.push({
      id: `fc_${id}_${i}`,
      type: 'function_call',
      status: 'completed',
      call_id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
    });
  });
  const { status, incomplete_details } = finalStatus(r);
  return {
    ...responseObject(request, {
      id,
      model,
      createdAt: r.createdAt ?? unixNow(),
      status,
      output,
      usage: usageOf(r),
    }),
    completed_at: unixNow(),
    incomplete_details,
    ...(servedBy === undefined ? {} : { allerac: servedBy }),
  };
}

/**
 * Turns one chat stream's Ollama chunks into Responses stream events, keeping the state the event
 * sequence needs: the open reasoning and message items, the next output index, the items done.
 */
export class ResponsesStreamConverter {
  private started = false;
  private sequence = 0;
  private outputIndex = 0;
  private readonly completed: Json[] = [];
  private readonly createdAt = unixNow();
  private reasoning: { id: string; text: string } | undefined;
  private message: { id: string; text: string } | undefined;
  private toolCallsNumbered = 0;

  constructor(
    private readonly id: string,
    private readonly model: string,
    private readonly request: ResponsesRequest,
  ) {}

  /** The events for one Ollama chunk; the final ones close every item and the response. */
  process(chunk: OllamaObject, servedBy?: ServedBy | Json): ResponsesStreamEvent[] {
    const r = readChatResponse(chunk);
    const events = this.start();
    if (r.thinking !== '') events.push(...this.thinking(r.thinking));
    if (r.toolCalls.length > 0) events.push(...this.toolCalls(r.toolCalls));
    if (r.content !== '') events.push(...this.text(r.content));
    if (r.done) {
      events.push(...this.finishReasoning(), ...this.finishMessage());
      const { status, incomplete_details } = finalStatus(r);
      const response = {
        ...this.object(status, usageOf(r)),
        completed_at: unixNow(),
        incomplete_details,
        ...(servedBy === undefined ? {} : { allerac: servedBy }),
      };
      events.push(
        this.event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response }),
      );
    }
    return events;
  }

  /** The events that end a stream cut short by `error`: the response as it stood, failed. */
  failed(error: HttpError): ResponsesStreamEvent[] {
    const events = this.start();
    const response = {
      ...this.object('failed', null),
      error: {
        code: error.code ?? (error.status >= 500 ? 'server_error' : 'invalid_request'),
        message: error.message,
      },
    };
    events.push(this.event('response.failed', { response }));
    return events;
  }

  private start(): ResponsesStreamEvent[] {
    if (this.started) return [];
    this.started = true;
    return [
      this.event('response.created', { response: this.object('in_progress', null) }),
      this.event('response.in_progress', { response: this.object('in_progress', null) }),
    ];
  }

  private thinking(delta: string): ResponsesStreamEvent[] {
    const events: ResponsesStreamEvent[] = [];
    if (this.reasoning === undefined) {
      this.reasoning = { id: itemId('rs'), text: '' };
      const where = { item_id: this.reasoning.id, output_index: this.outputIndex };
      events.push(
        this.event('response.output_item.added', {
          output_index: this.outputIndex,
          item: { id: this.reasoning.id, type: 'reasoning', summary: [] },
        }),
        this.event('response.reasoning_summary_part.added', {
          ...where,
          summary_index: 0,
          part: { type: 'summary_text', text: '' },
        }),
      );
    }
    this.reasoning.text += delta;
    events.push(
      this.event('response.reasoning_summary_text.delta', {
        item_id: this.reasoning.id,
        output_index: this.outputIndex,
        summary_index: 0,
        delta,
      }),
    );
    return events;
  }

  private finishReasoning(): ResponsesStreamEvent[] {
    const reasoning = this.reasoning;
    if (reasoning === undefined) return [];
    this.reasoning = undefined;
    const index = this.outputIndex++;
    const item = reasoningItem(reasoning.id, reasoning.text);
    this.completed.push(item);
    const where = { item_id: reasoning.id, output_index: index, summary_index: 0 };
    return [
      this.event('response.reasoning_summary_text.done', { ...where, text: reasoning.text }),
      this.event('response.reasoning_summary_part.done', {
        ...where,
        part: { type: 'summary_text', text: reasoning.text },
      }),
      this.event('response.output_item.done', { output_index: index, item }),
    ];
  }

  private text(delta: string): ResponsesStreamEvent[] {
    const events = this.finishReasoning();
    if (this.message === undefined) {
      this.message = { id: itemId('msg'), text: '' };
      events.push(
        this.event('response.output_item.added', {
          output_index: this.outputIndex,
          item: messageItem(this.message.id, '', 'in_progress'),
        }),
        this.event('response.content_part.added', {
          item_id: this.message.id,
          output_index: this.outputIndex,
          content_index: 0,
          part: textPart(''),
        }),
      );
    }
    this.message.text += delta;
    events.push(
      this.event('response.output_text.delta', {
        item_id: this.message.id,
        output_index: this.outputIndex,
        content_index: 0,
        delta,
        logprobs: [],
      }),
    );
    return events;
  }

  private finishMessage(): ResponsesStreamEvent[] {
    const message = this.message;
    if (message === undefined) return [];
    this.message = undefined;
    const index = this.outputIndex++;
    const item = messageItem(message.id, message.text, 'completed');
    this.completed.push(item);
    const where = { item_id: message.id, output_index: index, content_index: 0 };
    return [
      this.event('response.output_text.done', { ...where, text: message.text, logprobs: [] }),
      this.event('response.content_part.done', { ...where, part: textPart(message.text) }),
      this.event('response.output_item.done', { output_index: index, item }),
    ];
  }

  private toolCalls(calls: ChatResponse['toolCalls']): ResponsesStreamEvent[] {
    const events = [...this.finishReasoning(), ...this.finishMessage()];
    for (const call of toToolCalls(calls, this.toolCallsNumbered)) {
      const index = this.outputIndex++;
      const id = itemId('fc');
      const item = {
        id,
        type: 'function_call',
        status: 'completed',
        call_id: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
      };
      this.completed.push(item);
      events.push(
        this.event('response.output_item.added', {
          output_index: index,
          item: { ...item, status: 'in_progress', arguments: '' },
        }),
        this.event('response.function_call_arguments.delta', {
          item_id: id,
          output_index: index,
          delta: call.function.arguments,
        }),
        this.event('response.function_call_arguments.done', {
          item_id: id,
          output_index: index,
          arguments: call.function.arguments,
        }),
        this.event('response.output_item.done', { output_index: index, item }),
      );
    }
    this.toolCallsNumbered += calls.length;
    return events;
  }

  private object(status: string, usage: Json | null): Json {
    return responseObject(this.request, {
      id: this.id,
      model: this.model,
      createdAt: this.createdAt,
      status,
      output: [...this.completed],
      usage,
    });
  }

  private event(type: string, data: Json): ResponsesStreamEvent {
    return { event: type, data: { type, ...data, sequence_number: this.sequence++ } };
  }
}

/** One event as Server-Sent Event text. */
export function sseEvent({ event, data }: ResponsesStreamEvent): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
