/**
 * OpenAI requests in Ollama's shape, ported from Ollama's openai/openai.go (FromChatRequest,
 * FromCompleteRequest, FromCompletionToolCall, decodeImageURL, thinkFromReasoningEffort), so that
 * what reaches any node's Ollama is what Ollama's own /v1 would have sent it: tool-call arguments
 * as objects, tool results named, reasoning effort as `think`, sampling fields as options.
 * Failures are Ollama's own messages, as 400s.
 */
import type { OllamaObject } from '../backend/backend.js';
import { InvalidInputError } from '../errors.js';
import type { ChatCompletionRequest, CompletionRequest, OpenAiMessage } from './openai-schemas.js';

/** An Ollama chat message (api.Message). */
export interface OllamaMessage {
  role: string;
  content?: string;
  thinking?: string;
  images?: string[];
  tool_calls?: OllamaToolCall[];
  tool_name?: string;
  tool_call_id?: string;
}

/** An Ollama tool call (api.ToolCall): its arguments are an object. */
export interface OllamaToolCall {
  id?: string;
  function: { index?: number; name: string; arguments: Record<string, unknown> };
}

/** Ollama's `think`: on, off, or an effort level. */
export type ThinkValue = boolean | 'low' | 'medium' | 'high' | 'max';

/**
 * OpenAI's reasoning effort as Ollama's `think`; undefined leaves the model's default. OpenAI's
 * scale reaches past Ollama's at both ends (and clients add tiers): those clamp to the nearest.
 */
export function thinkFromReasoningEffort(effort: string | undefined, param: string): ThinkValue | undefined {
  switch (effort) {
    case undefined:
    case '':
      return undefined;
    case 'none':
      return false;
    case 'minimal':
      return 'low';
    case 'low':
    case 'medium':
    case 'high':
    case 'max':
      return effort;
    case 'xhigh':
    case 'ultra':
      return 'max';
    default:
      throw new InvalidInputError(
        `invalid reasoning value: ${JSON.stringify(effort)} (must be "minimal", "low", "medium", "high", "xhigh", "ultra", "max", or "none")`,
        { param },
      );
  }
}

/** POST /v1/chat/completions as the body of Ollama's /api/chat. */
export function fromChatRequest(body: ChatCompletionRequest): OllamaObject {
  const input = body.messages ?? [];
  if (input.length === 0)
    throw new InvalidInputError('messages must be a non-empty array', { param: 'messages' });
  const messages = input.flatMap((message, index) => fromChatMessage(message, index, input));
  const options: OllamaObject = { ...stopOption(body.stop) };
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) options.num_predict = maxTokens;
  // OpenAI's defaults, which Ollama's /v1 applies in place of the model's own.
  options.temperature = body.temperature ?? 1.0;
  if (body.seed !== undefined && body.seed !== null) options.seed = body.seed;
  if (body.frequency_penalty !== undefined && body.frequency_penalty !== null)
    options.frequency_penalty = body.frequency_penalty;
  if (body.presence_penalty !== undefined && body.presence_penalty !== null)
    options.presence_penalty = body.presence_penalty;
  options.top_p = body.top_p ?? 1.0;
  // `reasoning: {effort}` wins over `reasoning_effort`, even when its effort is empty.
  const effort =
    body.reasoning !== undefined && body.reasoning !== null
      ? [body.reasoning.effort ?? undefined, 'reasoning.effort']
      : [body.reasoning_effort ?? undefined, 'reasoning_effort'];
  const think = thinkFromReasoningEffort(effort[0], effort[1] as string);
  const request: OllamaObject = {
    model: body.model,
    messages,
    options,
    stream: body.stream === true,
    ...formatOf(body.response_format),
  };
  if (body.tools !== undefined && body.tools !== null) request.tools = body.tools;
  if (think !== undefined) request.think = think;
  if (body.logprobs === true) request.logprobs = true;
  if (typeof body.top_logprobs === 'number' && body.top_logprobs !== 0)
    request.top_logprobs = body.top_logprobs;
  if (body._debug_render_only === true) request._debug_render_only = true;
  // Allerac's own options (routing, memories) go on to the gateway, which strips them.
  if (body.allerac !== undefined && body.allerac !== null) request.allerac = body.allerac;
  return request;
}

/** One OpenAI message as one or more Ollama messages (a list of parts becomes one message each). */
function fromChatMessage(
  message: OpenAiMessage,
  index: number,
  all: readonly OpenAiMessage[],
): OllamaMessage[] {
  const role = message.role;
  let toolName = '';
  if (role.toLowerCase() === 'tool') {
    toolName = message.name ?? '';
    if (toolName === '' && message.tool_call_id) toolName = nameFromToolCallId(all, message.tool_call_id);
  }
  const toolCallId = message.tool_call_id ?? '';
  const { content } = message;
  if (typeof content === 'string') {
    return [
      compact({
        role,
        content,
        thinking: message.reasoning ?? '',
        tool_calls: fromToolCalls(message.tool_calls, index),
        tool_name: toolName,
        tool_call_id: toolCallId,
      }),
    ];
  }
  if (Array.isArray(content)) {
    const out = content.map((part, partIndex): OllamaMessage => {
      const param = `messages[${index}].content[${partIndex}]`;
      switch (part.type) {
        case 'text':
          if (typeof part.text !== 'string') throw new InvalidInputError('invalid message format', { param });
          return { role, content: part.text };
        case 'image_url': {
          const url = typeof part.image_url === 'string' ? part.image_url : part.image_url?.url;
          if (typeof url !== 'string') throw new InvalidInputError('invalid message format', { param });
          return { role, images: [decodeImageUrl(url, `${param}.image_url`)] };
        }
        case 'input_audio': {
          if (part.input_audio === undefined || part.input_audio === null)
            throw new InvalidInputError('invalid input_audio format', { param });
          const data = part.input_audio.data;
          if (typeof data !== 'string')
            throw new InvalidInputError('invalid input_audio format: missing data', { param });
          const audio = standardBase64(data);
          if (audio === undefined)
            throw new InvalidInputError('invalid input_audio base64 data', {
              param: `${param}.input_audio.data`,
            });
          return { role, images: [audio] };
        }
        default:
          throw new InvalidInputError('invalid message format', { param: `${param}.type` });
      }
    });
    // The message's tool calls (and, unlike Ollama, its tool result's name and id) go on its last part.
    const last = out.at(-1);
    if (last !== undefined) {
      const calls = fromToolCalls(message.tool_calls, index);
      Object.assign(
        last,
        compact({
          role,
          ...(calls !== undefined && calls.length > 0
            ? { tool_calls: calls, thinking: message.reasoning ?? '' }
            : {}),
          tool_name: toolName,
          tool_call_id: toolCallId,
        }),
      );
    }
    return out;
  }
  // Content may be left out only when the message carries tool calls.
  if (message.tool_calls === undefined || message.tool_calls === null) {
    throw new InvalidInputError('invalid message content type: <nil>', {
      param: `messages[${index}].content`,
    });
  }
  return [
    compact({
      role,
      thinking: message.reasoning ?? '',
      tool_calls: fromToolCalls(message.tool_calls, index),
      tool_name: toolName,
      tool_call_id: toolCallId,
    }),
  ];
}

/** The function a tool result answers, by its call id; the last call with that id wins. */
function nameFromToolCallId(messages: readonly OpenAiMessage[], id: string): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    for (const call of messages[i]?.tool_calls ?? []) {
      if (call.id === id) return call.function?.name ?? '';
    }
  }
  return '';
}

/** OpenAI sends a tool call's arguments as a JSON string; Ollama refuses anything but an object. */
export function fromToolCalls(
  calls: OpenAiMessage['tool_calls'],
  messageIndex: number,
): OllamaToolCall[] | undefined {
  if (calls === undefined || calls === null) return undefined;
  return calls.map((call, i) => {
    const args = parseArguments(call.function?.arguments ?? '');
    if (args === undefined) {
      throw new InvalidInputError('invalid tool call arguments', {
        param: `messages[${messageIndex}].tool_calls[${i}].function.arguments`,
      });
    }
    const out: OllamaToolCall = { function: { name: call.function?.name ?? '', arguments: args } };
    if (call.id) out.id = call.id;
    return out;
  });
}

/**
 * A JSON object string as the object; undefined when it is not one. An empty string or `null` is
 * a call without arguments (some clients send "" for those, and Ollama's Responses path takes it).
 */
export function parseArguments(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}

const IMAGE_PREFIXES = ['jpeg', 'jpg', 'png', 'webp'].map((type) => `data:image/${type};base64,`);

/** A base64 data: URL's payload, as Ollama takes an image; remote URLs are not fetched. */
export function decodeImageUrl(url: string, param: string): string {
  if (url.startsWith('http://') || url.startsWith('https://')) {
    throw new InvalidInputError(
      'image URLs are not currently supported, please use base64 encoded data instead',
      { param },
    );
  }
  // A blank media type takes unadorned base64, as /api/chat does.
  const prefix = url.startsWith('data:;base64,')
    ? 'data:;base64,'
    : IMAGE_PREFIXES.find((p) => url.startsWith(p));
  const data = prefix === undefined ? undefined : standardBase64(url.slice(prefix.length));
  if (data === undefined) throw new InvalidInputError('invalid image input', { param });
  return data;
}

/** Go's standard base64 (padded; CR and LF skipped), cleaned of line breaks; undefined if it is not. */
function standardBase64(text: string): string | undefined {
  const clean = text.replace(/[\r\n]/g, '');
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return undefined;
  return clean;
}

/** `stop` as Ollama's list. */
function stopOption(stop: string | string[] | null | undefined): OllamaObject {
  if (typeof stop === 'string') return { stop: [stop] };
  if (Array.isArray(stop)) return { stop };
  return {};
}

/** `response_format` as Ollama's `format`: "json", a JSON schema, or nothing. */
function formatOf(format: ChatCompletionRequest['response_format']): OllamaObject {
  if (format === undefined || format === null) return {};
  switch (format.type.trim().toLowerCase()) {
    case 'json_object':
      return { format: 'json' };
    case 'json_schema': {
      const schema = format.json_schema?.schema;
      return schema === undefined || schema === null ? {} : { format: schema };
    }
    default:
      return {};
  }
}

/** POST /v1/completions as the body of Ollama's /api/generate. */
export function fromCompletionRequest(body: CompletionRequest): OllamaObject {
  const options: OllamaObject = { ...stopOption(body.stop) };
  if (body.max_tokens !== undefined && body.max_tokens !== null) options.num_predict = body.max_tokens;
  options.temperature = body.temperature ?? 1.0;
  if (body.seed !== undefined && body.seed !== null) options.seed = body.seed;
  // Ollama's CompletionRequest holds these as plain numbers: absent means 0, and 0 is sent.
  options.frequency_penalty = body.frequency_penalty ?? 0;
  options.presence_penalty = body.presence_penalty ?? 0;
  options.top_p = body.top_p !== undefined && body.top_p !== null && body.top_p !== 0 ? body.top_p : 1.0;
  const request: OllamaObject = {
    model: body.model,
    prompt: body.prompt ?? '',
    options,
    stream: body.stream === true,
  };
  if (body.suffix) request.suffix = body.suffix;
  if (typeof body.logprobs === 'number' && body.logprobs > 0) {
    request.logprobs = true;
    request.top_logprobs = body.logprobs;
  }
  if (body._debug_render_only === true) request._debug_render_only = true;
  if (body.allerac !== undefined && body.allerac !== null) request.allerac = body.allerac;
  return request;
}

/** Drops the fields Go's `omitempty` would leave out: empty strings and absent lists. */
function compact(message: OllamaMessage): OllamaMessage {
  const out: OllamaMessage = { role: message.role };
  if (message.content !== undefined) out.content = message.content;
  if (message.thinking) out.thinking = message.thinking;
  if (message.images !== undefined && message.images.length > 0) out.images = message.images;
  if (message.tool_calls !== undefined && message.tool_calls.length > 0) out.tool_calls = message.tool_calls;
  if (message.tool_name) out.tool_name = message.tool_name;
  if (message.tool_call_id) out.tool_call_id = message.tool_call_id;
  return out;
}
