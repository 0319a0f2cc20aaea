/**
 * The bodies of /api/chat and /api/generate, decoded like Ollama's api.ChatRequest and
 * api.GenerateRequest (api/types.go), with the errors their UnmarshalJSON methods give.
 */
import { decodeBase64 } from './base64.js';
import { OllamaApiError } from './errors.js';
import {
  decodeRequest,
  GO_ANY,
  GO_BOOL,
  GO_INT,
  GO_STRING,
  type GoType,
  GoTypeError,
  goDecode,
  goSlice,
  goStruct,
  jsonKind,
} from './go-json.js';
import { numPredictOf } from './http-util.js';
import { parseKeepAlive } from './keep-alive.js';
import type { OutputFormat, ThinkSetting, ToolSpec } from './reply.js';
import type { ApiMessage } from './text.js';

/** jsonparser's error, which the ordered maps of tool arguments and properties give for a non-object. */
const NOT_AN_OBJECT = "Value looks like object, but can't find closing '}' symbol";
const THINK_LEVELS = ['high', 'medium', 'low', 'max'];

/** ThinkValue.UnmarshalJSON. */
const THINK: GoType = {
  kind: 'custom',
  decode: (value) => {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string') {
      if (!THINK_LEVELS.includes(value)) {
        throw new Error(
          `invalid think value: ${JSON.stringify(value)} (must be "high", "medium", "low", "max", true, or false)`,
        );
      }
      return value;
    }
    throw new Error('think must be a boolean or string ("high", "medium", "low", "max", true, or false)');
  },
};

/** api.Duration: seconds or a Go duration; kept as milliseconds. */
const DURATION: GoType = { kind: 'custom', decode: (value) => parseKeepAlive(value) };

/** api.ImageData is []byte: base64 text, as encoding/json decodes byte slices. */
const IMAGE: GoType = {
  kind: 'custom',
  decode: (value) => {
    if (typeof value !== 'string') throw new GoTypeError(jsonKind(value), 'api.ImageData');
    decodeBase64(value);
    return value;
  },
};

/** ToolCallFunctionArguments: an ordered map, so anything but an object fails in jsonparser. */
const TOOL_ARGUMENTS: GoType = {
  kind: 'custom',
  decode: (value) => {
    if (jsonKind(value) !== 'object') throw new Error(NOT_AN_OBJECT);
    return value;
  },
};

/** PropertyType: a string or a list of strings. */
const PROPERTY_TYPE: GoType = {
  kind: 'custom',
  decode: (value) => {
    if (typeof value === 'string') return [value];
    if (!Array.isArray(value)) throw new GoTypeError(jsonKind(value), '[]string');
    const bad = value.find((item) => item !== null && typeof item !== 'string');
    if (bad !== undefined) throw new GoTypeError(jsonKind(bad), 'string');
    return value;
  },
};

/** ToolPropertiesMap: an ordered map of ToolProperty, decoded afresh for each value. */
const TOOL_PROPERTIES: GoType = {
  kind: 'custom',
  decode: (value) => {
    if (jsonKind(value) !== 'object') throw new Error(NOT_AN_OBJECT);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      out[key] = goDecode(item, TOOL_PROPERTY);
    }
    return out;
  },
};

const TOOL_PROPERTY: GoType = goStruct('ToolProperty', {
  anyOf: { kind: 'custom', decode: (value) => goDecode(value, goSlice(TOOL_PROPERTY, '[]api.ToolProperty')) },
  type: PROPERTY_TYPE,
  items: GO_ANY,
  description: GO_STRING,
  enum: goSlice(GO_ANY, '[]interface {}'),
  properties: TOOL_PROPERTIES,
  required: goSlice(GO_STRING, '[]string'),
});

const TOOL: GoType = goStruct('Tool', {
  type: GO_STRING,
  items: GO_ANY,
  function: goStruct('ToolFunction', {
    name: GO_STRING,
    description: GO_STRING,
    parameters: goStruct('ToolFunctionParameters', {
      type: GO_STRING,
      $defs: GO_ANY,
      items: GO_ANY,
      required: goSlice(GO_STRING, '[]string'),
      properties: TOOL_PROPERTIES,
    }),
  }),
});

const TOOL_CALL: GoType = goStruct('ToolCall', {
  id: GO_STRING,
  function: goStruct('ToolCallFunction', { index: GO_INT, name: GO_STRING, arguments: TOOL_ARGUMENTS }),
});

/** Message.UnmarshalJSON decodes into a local `Alias` type, then lowercases the role. */
const MESSAGE_ALIAS: GoType = goStruct('Alias', {
  role: GO_STRING,
  content: GO_STRING,
  thinking: GO_STRING,
  images: goSlice(IMAGE, '[]api.ImageData'),
  tool_calls: goSlice(TOOL_CALL, '[]api.ToolCall'),
  tool_name: GO_STRING,
  tool_call_id: GO_STRING,
});

/** api.Message, lowercasing the role as its UnmarshalJSON does. */
export const MESSAGE: GoType = {
  kind: 'custom',
  decode: (value) => {
    const message = (goDecode(value, MESSAGE_ALIAS) ?? {}) as Record<string, unknown>;
    return { ...message, role: typeof message.role === 'string' ? message.role.toLowerCase() : '' };
  },
};

const OPTIONS: GoType = { kind: 'map', elem: GO_ANY, goName: 'map[string]interface {}' };

const COMMON = {
  model: GO_STRING,
  stream: GO_BOOL,
  format: GO_ANY,
  keep_alive: DURATION,
  options: OPTIONS,
  think: THINK,
  truncate: GO_BOOL,
  shift: GO_BOOL,
  _debug_render_only: GO_BOOL,
  logprobs: GO_BOOL,
  top_logprobs: GO_INT,
};

const CHAT_REQUEST = goStruct('ChatRequest', {
  ...COMMON,
  messages: goSlice(MESSAGE, '[]api.Message'),
  tools: goSlice(TOOL, 'api.Tools'),
});

const GENERATE_REQUEST = goStruct('GenerateRequest', {
  ...COMMON,
  prompt: GO_STRING,
  suffix: GO_STRING,
  system: GO_STRING,
  template: GO_STRING,
  context: goSlice(GO_INT, '[]int'),
  raw: GO_BOOL,
  images: goSlice(IMAGE, '[]api.ImageData'),
});

/** Fields both endpoints share. */
export interface InferenceRequest {
  model: string;
  stream: boolean;
  /** The raw `format` value; see parseFormat. */
  format: unknown;
  keepAliveMs: number | undefined;
  options: Record<string, unknown>;
  numPredict: number | undefined;
  /** Undefined when not sent, which thinking models take as true. */
  think: ThinkSetting | undefined;
}

/** An /api/chat body. */
export interface ChatRequestBody extends InferenceRequest {
  messages: ApiMessage[];
  tools: ToolSpec[];
}

/** An /api/generate body. */
export interface GenerateRequestBody extends InferenceRequest {
  prompt: string;
  suffix: string;
  system: string;
  template: string;
  context: number[] | undefined;
  raw: boolean;
  images: string[];
}

function common(decoded: Record<string, unknown>): InferenceRequest {
  const topLogprobs = (decoded.top_logprobs as number | undefined) ?? 0;
  // Checked before the model is looked up (ChatHandler, GenerateHandler).
  if (topLogprobs < 0 || topLogprobs > 20)
    throw new OllamaApiError(400, 'top_logprobs must be between 0 and 20');
  const options = (decoded.options as Record<string, unknown> | undefined) ?? {};
  return {
    model: (decoded.model as string | undefined) ?? '',
    stream: (decoded.stream as boolean | undefined) ?? true,
    format: decoded.format,
    keepAliveMs: decoded.keep_alive as number | undefined,
    options,
    numPredict: numPredictOf(options),
    think: decoded.think as ThinkSetting | undefined,
  };
}

function toApiMessage(raw: Record<string, unknown>): ApiMessage {
  const message: ApiMessage = {
    role: raw.role as string,
    content: (raw.content as string | undefined) ?? '',
  };
  const images = (raw.images as string[] | undefined)?.filter((image) => image !== undefined);
  if (images !== undefined && images.length > 0) message.images = images;
  const calls = raw.tool_calls as Array<Record<string, unknown>> | undefined;
  if (calls !== undefined && calls.length > 0) {
    message.tool_calls = calls.map((call) => {
      const fn = (call.function as Record<string, unknown> | undefined) ?? {};
      return {
        ...(typeof call.id === 'string' ? { id: call.id } : {}),
        function: {
          index: (fn.index as number | undefined) ?? 0,
          name: (fn.name as string | undefined) ?? '',
          arguments: (fn.arguments as Record<string, unknown> | undefined) ?? {},
        },
      };
    });
  }
  if (typeof raw.tool_name === 'string' && raw.tool_name !== '') message.tool_name = raw.tool_name;
  return message;
}

/** Decodes an /api/chat body, failing with 400 and Go's text as ChatHandler's ShouldBindJSON does. */
export function parseChatRequest(body: Record<string, unknown>): ChatRequestBody {
  const decoded = decodeRequest(body, CHAT_REQUEST);
  const messages = ((decoded.messages as Array<Record<string, unknown> | undefined>) ?? []).map((m) =>
    toApiMessage(m ?? { role: '' }),
  );
  // Arguments are generated from the schema as sent; the decoded copy only proves it well-formed.
  const rawTools = Array.isArray(body.tools) ? (body.tools as unknown[]) : [];
  const tools: ToolSpec[] = [];
  ((decoded.tools as Array<Record<string, unknown> | undefined>) ?? []).forEach((tool, i) => {
    if (tool === undefined) return;
    const fn = (tool.function as Record<string, unknown> | undefined) ?? {};
    const raw = rawTools[i] as { function?: { parameters?: unknown } } | undefined;
    tools.push({
      type: (tool.type as string | undefined) ?? '',
      function: {
        name: (fn.name as string | undefined) ?? '',
        ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
        parameters: raw?.function?.parameters,
      },
    });
  });
  return { ...common(decoded), messages, tools };
}

/** Decodes an /api/generate body. */
export function parseGenerateRequest(body: Record<string, unknown>): GenerateRequestBody {
  const decoded = decodeRequest(body, GENERATE_REQUEST);
  return {
    ...common(decoded),
    prompt: (decoded.prompt as string | undefined) ?? '',
    suffix: (decoded.suffix as string | undefined) ?? '',
    system: (decoded.system as string | undefined) ?? '',
    template: (decoded.template as string | undefined) ?? '',
    context: decoded.context as number[] | undefined,
    raw: (decoded.raw as boolean | undefined) ?? false,
    images: ((decoded.images as Array<string | undefined> | undefined) ?? []).filter(
      (image): image is string => image !== undefined,
    ),
  };
}

/**
 * `format` as the runner takes it (llm/llama_server.go): null or "" for none, "json", or a schema
 * object; anything else fails inside Completion, after the model is loaded, as a 500.
 */
export function parseFormat(raw: unknown): OutputFormat | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (raw === 'json') return { kind: 'json' };
  if (jsonKind(raw) === 'object') return { kind: 'schema', schema: raw as Record<string, unknown> };
  throw new OllamaApiError(
    500,
    `invalid format: ${JSON.stringify(JSON.stringify(raw))}; expected "json" or a valid JSON Schema object`,
  );
}
