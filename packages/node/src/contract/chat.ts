/**
 * What the chat page reads of Ollama's /api/chat and /api/tags: the answer's chunks, and who served
 * it with what (`allerac` on the final chunk). The rest of each object is Ollama's.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Nullable } from './schema.js';

/** Which memories the serving node could be given, and how many it was. */
export const ChatMemoryUse = Type.Object({
  /** `private+shared`: this node served; `shared`: a peer, given only spaces it may hold; `none`: a peer given none. */
  scope: Type.Union([Type.Literal('private+shared'), Type.Literal('shared'), Type.Literal('none')]),
  /** How many memories were added to the chat. */
  used: Type.Number(),
});
export type ChatMemoryUse = Static<typeof ChatMemoryUse>;

/** A memory a chat drew on. */
export const UsedMemory = Type.Object({
  id: Type.String(),
  text: Type.String(),
  score: Type.Number(),
  space: Nullable(Type.String()),
});
export type UsedMemory = Static<typeof UsedMemory>;

/** The final chunk's `allerac`: who served the answer, after how many failovers, with what. */
export const AnswerInfo = Type.Object({
  node: Type.String(),
  failovers: Type.Number(),
  /** Absent when memories were off for this chat. */
  memory: Type.Optional(ChatMemoryUse),
  memories: Type.Optional(Type.Array(UsedMemory)),
});
export type AnswerInfo = Static<typeof AnswerInfo>;

/** What a stored answer's `metadata` holds (conversation history), besides an `error` of a cut one. */
export const AnswerMetadata = Type.Partial(
  Type.Object({ ...AnswerInfo.properties, error: Type.String() }, { additionalProperties: true }),
);
export type AnswerMetadata = Static<typeof AnswerMetadata>;

/** One NDJSON line of a streamed /api/chat answer. */
export const ChatChunk = Type.Object({
  message: Type.Optional(Type.Object({ role: Type.String(), content: Type.String() })),
  done: Type.Optional(Type.Boolean()),
  /** An error that cut the stream short. */
  error: Type.Optional(Type.String()),
  allerac: Type.Optional(AnswerInfo),
});
export type ChatChunk = Static<typeof ChatChunk>;

/** GET /api/tags, as far as the chat page reads it: every model of the home once. */
export const ModelTags = Type.Object({ models: Type.Array(Type.Object({ name: Type.String() })) });
export type ModelTags = Static<typeof ModelTags>;
