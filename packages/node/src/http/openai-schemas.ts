/**
 * The OpenAI-compatible request bodies as TypeBox schemas, written from Ollama's own
 * openai/openai.go (ChatCompletionRequest, Message, ToolCall, EmbedRequest): the route schemas of
 * /v1/*. Unknown fields are allowed, as Ollama's decoder ignores them; OpenAI's shapes that
 * Ollama does not translate are refused by the handler with a message of its own.
 */
import { type Static, Type } from '@sinclair/typebox';
import { AlleracOptions, GoInt, Opt, StorableText, Tool } from './ollama-schemas.js';

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
  stream_options: Opt(Type.Object({ include_usage: Opt(Type.Boolean()) })),
  max_tokens: Opt(GoInt),
  /** OpenAI's newer name for max_tokens. */
  max_completion_tokens: Opt(GoInt),
  seed: Opt(GoInt),
  stop: Opt(
    Type.Union([Type.String(), Type.Array(Type.String())], {
      description: 'a string or an array of strings',
    }),
  ),
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
