/**
 * The OpenAI-compatible request bodies as TypeBox schemas, written from Ollama's own
 * openai/openai.go (ChatCompletionRequest, CompletionRequest, Message, ToolCall, EmbedRequest) and
 * openai/responses.go (ResponsesRequest and its input items): the route schemas of /v1/*. Unknown
 * fields are allowed, as Ollama's decoder ignores them; OpenAI's shapes that Ollama does not
 * translate are refused by the translation (openai-translate.ts, openai-responses-request.ts) with
 * Ollama's own message.
 */
import { type Static, Type } from '@sinclair/typebox';
import { AlleracOptions, GoInt, Opt, StorableText, Tool } from './ollama-schemas.js';

/** `stop`: one string or several. */
const Stop = Type.Union([Type.String(), Type.Array(Type.String())], {
  description: 'a string or an array of strings',
});

/** openai.StreamOptions. */
const StreamOptions = Type.Object({ include_usage: Opt(Type.Boolean()) });

/** One part of a message's content: `text`, or `image_url` with a data: URL (the handler checks which). */
export const ContentPart = Type.Object({
  type: Type.String(),
  text: Opt(StorableText),
  /** An object with a url, or (as Ollama also takes) the url itself. */
  image_url: Opt(
    Type.Union([Type.String(), Type.Object({ url: Type.String(), detail: Opt(Type.String()) })], {
      description: 'an object with a url string, or a url string',
    }),
  ),
  /** Base64 audio, which Ollama hands to the model as it does images. */
  input_audio: Opt(Type.Object({ data: Opt(Type.String()), format: Opt(Type.String()) })),
});

/** openai.ToolCall: the arguments are a JSON string. */
export const OpenAiToolCall = Type.Object({
  id: Opt(Type.String()),
  index: Opt(GoInt),
  type: Opt(Type.String()),
  function: Opt(Type.Object({ name: Opt(Type.String()), arguments: Opt(Type.String()) })),
});

/** openai.Message. */
export const OpenAiMessage = Type.Object({
  role: StorableText,
  content: Opt(Type.Union([StorableText, Type.Array(ContentPart)])),
  reasoning: Opt(Type.String()),
  tool_calls: Opt(Type.Array(OpenAiToolCall)),
  name: Opt(Type.String()),
  tool_call_id: Opt(Type.String()),
});
export type OpenAiMessage = Static<typeof OpenAiMessage>;

/** POST /v1/chat/completions: openai.ChatCompletionRequest. */
export const ChatCompletionRequest = Type.Object({
  model: Opt(StorableText),
  messages: Opt(Type.Array(OpenAiMessage)),
  stream: Opt(Type.Boolean()),
  stream_options: Opt(StreamOptions),
  max_tokens: Opt(GoInt),
  /** OpenAI's newer name for max_tokens; wins over it when both are sent. */
  max_completion_tokens: Opt(GoInt),
  seed: Opt(GoInt),
  stop: Opt(Stop),
  temperature: Opt(Type.Number()),
  frequency_penalty: Opt(Type.Number()),
  presence_penalty: Opt(Type.Number()),
  top_p: Opt(Type.Number()),
  response_format: Opt(
    Type.Object({
      type: Type.String(),
      json_schema: Opt(Type.Object({ schema: Type.Optional(Type.Unknown()) })),
    }),
  ),
  tools: Opt(Type.Array(Tool)),
  reasoning: Opt(Type.Object({ effort: Opt(Type.String()) })),
  reasoning_effort: Opt(Type.String()),
  logprobs: Opt(Type.Boolean()),
  top_logprobs: Opt(GoInt),
  _debug_render_only: Opt(Type.Boolean()),
  allerac: Opt(AlleracOptions),
});
export type ChatCompletionRequest = Static<typeof ChatCompletionRequest>;

/** POST /v1/completions: openai.CompletionRequest (a string prompt, as Ollama takes). */
export const CompletionRequest = Type.Object({
  model: Opt(StorableText),
  prompt: Opt(StorableText),
  /** Text after the insertion point (fill-in-the-middle); Ollama's /api/generate `suffix`. */
  suffix: Opt(Type.String()),
  frequency_penalty: Opt(Type.Number()),
  presence_penalty: Opt(Type.Number()),
  max_tokens: Opt(GoInt),
  seed: Opt(GoInt),
  stop: Opt(Stop),
  stream: Opt(Type.Boolean()),
  stream_options: Opt(StreamOptions),
  temperature: Opt(Type.Number()),
  top_p: Opt(Type.Number()),
  /** How many most likely tokens to report per position; any value above 0 turns logprobs on. */
  logprobs: Opt(GoInt),
  _debug_render_only: Opt(Type.Boolean()),
  allerac: Opt(AlleracOptions),
});
export type CompletionRequest = Static<typeof CompletionRequest>;

/** One content item of a Responses input message or function output (its `type` says which). */
export const ResponsesContent = Type.Object({
  /** input_text, output_text, input_image or input_file. */
  type: Type.String(),
  text: Opt(StorableText),
  detail: Opt(Type.String()),
  file_id: Opt(Type.String()),
  /** A base64 data: URL; remote images are not fetched. */
  image_url: Opt(Type.String()),
  file_data: Opt(Type.String()),
  file_url: Opt(Type.String()),
  filename: Opt(Type.String()),
});
export type ResponsesContent = Static<typeof ResponsesContent>;

/** A message's content or a function's output: a string, or content items. */
const ResponsesContentList = Type.Union([StorableText, Type.Array(ResponsesContent)], {
  description: 'a string or an array of content items',
});

/**
 * One Responses input item: a message (`type` "message", or a bare `role`), a function_call, a
 * function_call_output, a reasoning item or a web_search_call, told apart by `type`.
 */
export const ResponsesInputItem = Type.Object({
  type: Opt(Type.String()),
  id: Opt(Type.String()),
  role: Opt(StorableText),
  content: Opt(ResponsesContentList),
  call_id: Opt(Type.String()),
  name: Opt(Type.String()),
  arguments: Opt(Type.String()),
  output: Opt(ResponsesContentList),
  summary: Opt(Type.Array(Type.Object({ type: Opt(Type.String()), text: Opt(Type.String()) }))),
  encrypted_content: Opt(Type.String()),
});
export type ResponsesInputItem = Static<typeof ResponsesInputItem>;

/** A Responses function's parameters: the fields of api.ToolFunctionParameters. */
const ResponsesToolParameters = Type.Object({
  type: Opt(Type.String()),
  $defs: Type.Optional(Type.Unknown()),
  items: Type.Optional(Type.Unknown()),
  required: Opt(Type.Array(Type.String())),
  properties: Opt(Type.Record(Type.String(), Type.Unknown())),
});

const responsesToolFields = {
  /** function, namespace or web_search. */
  type: Opt(Type.String()),
  name: Opt(Type.String()),
  description: Opt(Type.String()),
  strict: Opt(Type.Boolean()),
  parameters: Opt(ResponsesToolParameters),
};

/** A member function of a namespace tool (a namespace nested in a namespace is flattened once). */
const ResponsesToolMember = Type.Object({
  ...responsesToolFields,
  tools: Opt(Type.Array(Type.Object(responsesToolFields))),
});

/** openai.ResponsesTool: flat, unlike api.Tool; a namespace groups member functions. */
export const ResponsesTool = Type.Object({
  ...responsesToolFields,
  tools: Opt(Type.Array(ResponsesToolMember)),
});
export type ResponsesTool = Static<typeof ResponsesTool>;

/** POST /v1/responses: openai.ResponsesRequest. Stateless: nothing is stored between requests. */
export const ResponsesRequest = Type.Object({
  model: Opt(StorableText),
  input: Opt(
    Type.Union([StorableText, Type.Array(ResponsesInputItem)], {
      description: 'a string or an array of input items',
    }),
  ),
  instructions: Opt(StorableText),
  max_output_tokens: Opt(GoInt),
  reasoning: Opt(
    Type.Object({
      effort: Opt(Type.String()),
      generate_summary: Opt(Type.String()),
      summary: Opt(Type.String()),
    }),
  ),
  temperature: Opt(Type.Number()),
  top_p: Opt(Type.Number()),
  truncation: Opt(Type.String()),
  text: Opt(
    Type.Object({
      format: Opt(
        Type.Object({
          type: Type.String(),
          name: Opt(Type.String()),
          schema: Type.Optional(Type.Unknown()),
          strict: Opt(Type.Boolean()),
        }),
      ),
    }),
  ),
  tools: Opt(Type.Array(ResponsesTool)),
  stream: Opt(Type.Boolean()),
  background: Opt(Type.Boolean()),
  /** Ids of stored state, which a stateless node cannot honour: refused when set. */
  previous_response_id: Opt(Type.String()),
  conversation: Type.Optional(Type.Unknown()),
  include: Opt(Type.Array(Type.String())),
  store: Opt(Type.Boolean()),
  metadata: Type.Optional(Type.Unknown()),
  allerac: Opt(AlleracOptions),
});
export type ResponsesRequest = Static<typeof ResponsesRequest>;

/** POST /v1/embeddings: openai.EmbedRequest (input is required here, unlike /api/embed). */
export const OpenAiEmbedRequest = Type.Object({
  input: Type.Union([Type.String(), Type.Array(Type.String())], {
    description: 'a string or an array of strings',
  }),
  model: Opt(Type.String()),
  dimensions: Opt(GoInt),
  encoding_format: Opt(Type.String()),
});
export type OpenAiEmbedRequest = Static<typeof OpenAiEmbedRequest>;

/** GET /v1/models/:model. */
export const ModelParams = Type.Object({ model: Type.String() });
export type ModelParams = Static<typeof ModelParams>;
