/**
 * Ollama's request bodies as TypeBox schemas, written from Ollama's own Go types
 * (api/types.go: ChatRequest, GenerateRequest, EmbedRequest, EmbeddingRequest, ShowRequest,
 * Message, Tool, Options). They are the route schemas of /api/*, so Fastify refuses a wrong type
 * with a 400 before the handler, the gateway or the `ollama` client sees it.
 *
 * Faithful to Ollama: every field it reads is here; fields it ignores are allowed (Go's decoder
 * skips unknown fields); `null` is allowed wherever Go would leave the zero value. Stricter than
 * Ollama only where the node itself needs it: text it stores holds no NUL (PostgreSQL text
 * cannot), and `role` is required because the node records it.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { STORABLE_TEXT_PATTERN } from '../contract/schema.js';

/** Go leaves a field at its zero value for JSON `null`: optional, and nullable. */
export const Opt = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

// Text the node stores holds no NUL; the contract defines the pattern for every route.
export { STORABLE_TEXT_PATTERN };
/** A string the node may store. */
export const StorableText = Type.String({
  pattern: STORABLE_TEXT_PATTERN,
  description: 'a string without NUL (\\u0000) characters',
});

/**
 * Go's `[]byte` in JSON: base64 (the standard alphabet; Go's decoder skips CR and LF). No file
 * paths with dots or dashes, no data: URLs. The lookahead and back-reference make the character
 * run atomic: a 30 MB string that fails at its last character is refused in one pass, where a
 * plain `[...]*` would backtrack through every position (about 5x slower).
 */
export const BASE64_PATTERN = '^(?=([A-Za-z0-9+/\\r\\n]*))\\1={0,2}[\\r\\n]*$';
/** One image of a message or a generate request. */
export const Base64Image = Type.String({
  pattern: BASE64_PATTERN,
  description: 'a base64-encoded image string',
});

/** Go's `int` is 64 bits; JSON numbers beyond it do not decode. */
export const GoInt = Type.Integer({
  minimum: -(2 ** 63),
  exclusiveMaximum: 2 ** 63,
  description: 'an integer',
});

/** api.Duration: seconds as a number, or a Go duration string ("5m", "-1"). */
export const KeepAlive = Type.Union([Type.Number(), Type.String()], {
  description: 'a number of seconds or a duration string such as "5m"',
});

/** api.ThinkValue: a boolean, or an effort level. */
export const Think = Type.Union(
  [Type.Boolean(), Type.Literal('high'), Type.Literal('medium'), Type.Literal('low'), Type.Literal('max')],
  { description: 'true, false, "high", "medium", "low" or "max"' },
);

/**
 * api.Options (with Runner). Ollama's Options.FromMap accepts any JSON number for its integer
 * options (it truncates), warns about unknown options and ignores them.
 */
export const ModelOptions = Type.Object({
  num_keep: Opt(Type.Number()),
  seed: Opt(Type.Number()),
  num_predict: Opt(Type.Number()),
  top_k: Opt(Type.Number()),
  top_p: Opt(Type.Number()),
  min_p: Opt(Type.Number()),
  typical_p: Opt(Type.Number()),
  repeat_last_n: Opt(Type.Number()),
  temperature: Opt(Type.Number()),
  repeat_penalty: Opt(Type.Number()),
  presence_penalty: Opt(Type.Number()),
  frequency_penalty: Opt(Type.Number()),
  stop: Opt(Type.Array(Type.String())),
  num_ctx: Opt(Type.Number()),
  num_batch: Opt(Type.Number()),
  num_gpu: Opt(Type.Number()),
  main_gpu: Opt(Type.Number()),
  use_mmap: Opt(Type.Boolean()),
  num_thread: Opt(Type.Number()),
  draft_num_predict: Opt(Type.Number()),
});

/** A JSON object of anything (Go's map[string]any). */
const AnyObject = Type.Record(Type.String(), Type.Unknown());

/** api.ToolCall. */
export const ToolCall = Type.Object({
  id: Opt(Type.String()),
  function: Opt(
    Type.Object({
      index: Opt(GoInt),
      name: Opt(Type.String()),
      /** Ollama's arguments are an object (OpenAI's are a JSON string; openai-api.ts converts). */
      arguments: Opt(AnyObject),
    }),
  ),
});

/** api.Tool: a function the model may call, its parameters a JSON schema. */
export const Tool = Type.Object({
  type: Opt(Type.String()),
  items: Type.Optional(Type.Unknown()),
  function: Opt(
    Type.Object({
      name: Opt(Type.String()),
      description: Opt(Type.String()),
      parameters: Opt(
        Type.Object({
          type: Opt(Type.String()),
          $defs: Type.Optional(Type.Unknown()),
          items: Type.Optional(Type.Unknown()),
          required: Opt(Type.Array(Type.String())),
          properties: Opt(AnyObject),
        }),
      ),
    }),
  ),
});

/** api.Message. */
export const Message = Type.Object({
  role: StorableText,
  content: Opt(StorableText),
  thinking: Opt(Type.String()),
  images: Opt(Type.Array(Base64Image)),
  tool_calls: Opt(Type.Array(ToolCall)),
  tool_name: Opt(Type.String()),
  tool_call_id: Opt(Type.String()),
});
export type Message = Static<typeof Message>;

/** Allerac's own options in a request body (routing, memory-aware chat); stripped before Ollama. */
export const AlleracOptions = Type.Object({
  policy: Opt(Type.Union([Type.Literal('auto'), Type.Literal('local-first')])),
  node: Opt(Type.String()),
  specialization: Opt(Type.String()),
  memories: Opt(Type.Boolean()),
});

/** The fields chat and generate share. */
const generationFields = {
  /** Required (and non-empty), but Ollama's own message says so: the handler checks it. */
  model: Opt(StorableText),
  stream: Opt(Type.Boolean()),
  /** "json" or a JSON schema (json.RawMessage): Ollama judges it. */
  format: Type.Optional(Type.Unknown()),
  keep_alive: Opt(KeepAlive),
  options: Opt(ModelOptions),
  think: Opt(Think),
  truncate: Opt(Type.Boolean()),
  shift: Opt(Type.Boolean()),
  _debug_render_only: Opt(Type.Boolean()),
  logprobs: Opt(Type.Boolean()),
  top_logprobs: Opt(GoInt),
  allerac: Opt(AlleracOptions),
};

/** POST /api/chat: api.ChatRequest. */
export const ChatRequest = Type.Object({
  ...generationFields,
  messages: Opt(Type.Array(Message)),
  tools: Opt(Type.Array(Tool)),
});
export type ChatRequest = Static<typeof ChatRequest>;

/** POST /api/generate: api.GenerateRequest. */
export const GenerateRequest = Type.Object({
  ...generationFields,
  prompt: Opt(StorableText),
  suffix: Opt(Type.String()),
  system: Opt(Type.String()),
  template: Opt(Type.String()),
  context: Opt(Type.Array(GoInt)),
  raw: Opt(Type.Boolean()),
  images: Opt(Type.Array(Base64Image)),
});
export type GenerateRequest = Static<typeof GenerateRequest>;

/** POST /api/embed: api.EmbedRequest (Ollama itself answers an absent input with no embeddings). */
export const EmbedRequest = Type.Object({
  model: Opt(Type.String()),
  input: Opt(
    Type.Union([Type.String(), Type.Array(Type.String())], {
      description: 'a string or an array of strings',
    }),
  ),
  keep_alive: Opt(KeepAlive),
  truncate: Opt(Type.Boolean()),
  dimensions: Opt(GoInt),
  options: Opt(ModelOptions),
  allerac: Opt(AlleracOptions),
});
export type EmbedRequest = Static<typeof EmbedRequest>;

/** POST /api/embeddings: api.EmbeddingRequest, the legacy single-prompt form. */
export const EmbeddingsRequest = Type.Object({
  model: Opt(Type.String()),
  prompt: Opt(Type.String()),
  keep_alive: Opt(KeepAlive),
  options: Opt(ModelOptions),
  allerac: Opt(AlleracOptions),
});
export type EmbeddingsRequest = Static<typeof EmbeddingsRequest>;

/** POST /api/show: api.ShowRequest (`name` is the deprecated spelling of `model`). */
export const ShowRequest = Type.Object({
  model: Opt(Type.String()),
  name: Opt(Type.String()),
  system: Opt(Type.String()),
  template: Opt(Type.String()),
  verbose: Opt(Type.Boolean()),
  options: Opt(AnyObject),
  allerac: Opt(AlleracOptions),
});
export type ShowRequest = Static<typeof ShowRequest>;

/** Allerac's options of a model-management request: which node's Ollama acts (`*`: every node, delete only). */
export const ModelAlleracOptions = Type.Object({
  node: Opt(Type.String({ maxLength: 256 })),
});

/** A pull's Allerac options: the node whose Ollama pulls, and where it gets the model (default `auto`). */
export const PullAlleracOptions = Type.Object({
  node: Opt(Type.String({ maxLength: 256 })),
  source: Opt(Type.Union([Type.Literal('internet'), Type.Literal('peer'), Type.Literal('auto')])),
});

/** POST /api/pull: api.PullRequest (`name` is the deprecated spelling of `model`). */
export const PullRequest = Type.Object({
  model: Opt(Type.String()),
  name: Opt(Type.String()),
  insecure: Opt(Type.Boolean()),
  username: Opt(Type.String()),
  password: Opt(Type.String()),
  stream: Opt(Type.Boolean()),
  allerac: Opt(PullAlleracOptions),
});
export type PullRequest = Static<typeof PullRequest>;

/** DELETE /api/delete: api.DeleteRequest. */
export const DeleteRequest = Type.Object({
  model: Opt(Type.String()),
  name: Opt(Type.String()),
  allerac: Opt(ModelAlleracOptions),
});
export type DeleteRequest = Static<typeof DeleteRequest>;

/** POST /api/copy: api.CopyRequest. */
export const CopyRequest = Type.Object({
  source: Opt(Type.String()),
  destination: Opt(Type.String()),
  allerac: Opt(ModelAlleracOptions),
});
export type CopyRequest = Static<typeof CopyRequest>;

const StringMap = Type.Record(Type.String(), Type.String());

/** POST /api/create: api.CreateRequest; Ollama judges names, digests and file paths itself. */
export const CreateRequest = Type.Object({
  model: Opt(Type.String()),
  name: Opt(Type.String()),
  stream: Opt(Type.Boolean()),
  quantize: Opt(Type.String()),
  quantization: Opt(Type.String()),
  draft_quantize: Opt(Type.String()),
  from: Opt(Type.String()),
  remote_host: Opt(Type.String()),
  files: Opt(StringMap),
  draft_files: Opt(StringMap),
  adapters: Opt(StringMap),
  template: Opt(Type.String()),
  license: Opt(Type.Union([Type.String(), Type.Array(Type.String())])),
  system: Opt(Type.String()),
  parameters: Opt(AnyObject),
  messages: Opt(Type.Array(Message)),
  renderer: Opt(Type.String()),
  parser: Opt(Type.String()),
  requires: Opt(Type.String()),
  info: Opt(AnyObject),
  allerac: Opt(ModelAlleracOptions),
});
export type CreateRequest = Static<typeof CreateRequest>;

/** `/api/blobs/:digest`: Ollama checks the digest's form (manifest.BlobsPath) and answers 400. */
export const BlobParams = Type.Object({ digest: Type.String({ maxLength: 256 }) });
export type BlobParams = Static<typeof BlobParams>;
