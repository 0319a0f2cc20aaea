/**
 * What the chat page reads of Ollama's /api/chat and /api/tags: the answer's chunks, and who served
 * it with what (`allerac` on the final chunk). The rest of each object is Ollama's.
 */
import { type Static, Type } from '@sinclair/typebox';
import { AnswerProposals, NotRemembered } from './memory-proposals.js';
import { Closed, Nullable, OneOf } from './schema.js';

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
  /** `[document name, part N]` when the memory is a part of an imported document. */
  citation: Type.Optional(Type.String()),
});
export type UsedMemory = Static<typeof UsedMemory>;

/** Why a tool call did not run or failed: the domain error's class name and message. */
export const ToolCallError = Closed({ name: Type.String(), message: Type.String() });
export type ToolCallError = Static<typeof ToolCallError>;

/** One tool call the node ran (or refused) for an agent's answer (tools/tool-loop.ts ToolCallEvent). */
export const ToolCallInfo = Closed({
  /** The model turn that made the call, from 1. */
  step: Type.Number(),
  /** The tool's name, e.g. `ha.call_service`. */
  name: Type.String(),
  /** The arguments as the model gave them. */
  arguments: Type.Record(Type.String(), Type.Unknown()),
  /** What the tool returned, when it ran. */
  result: Type.Optional(Type.Unknown()),
  /** Why it did not run or failed (a refusal, a wrong Home Assistant token). */
  error: Type.Optional(ToolCallError),
  durationMs: Type.Number(),
  /** Whether the tool changes the world (turns a device off). */
  action: Type.Boolean(),
});
export type ToolCallInfo = Static<typeof ToolCallInfo>;

/** Why an agent's tool loop stopped before the model answered in text. */
export const ToolLoopStopped = OneOf(['max-steps', 'time-limit'] as const);
export type ToolLoopStopped = Static<typeof ToolLoopStopped>;

/** The final chunk's `allerac`: who served the answer, after how many failovers, with what. */
export const AnswerInfo = Type.Object({
  node: Type.String(),
  failovers: Type.Number(),
  /** Absent when memories were off for this chat. */
  memory: Type.Optional(ChatMemoryUse),
  memories: Type.Optional(Type.Array(UsedMemory)),
  /** The tools an agent's answer called, in order; absent when it called none. */
  toolCalls: Type.Optional(Type.Array(ToolCallInfo)),
  /** Set when the tool loop ran out of steps or time. */
  toolLoopStopped: Type.Optional(ToolLoopStopped),
  /** Memories the agent proposed from this message, pending review (memory-proposals.ts). */
  proposals: Type.Optional(AnswerProposals),
  /** A "remember …" message that saved nothing, and why. */
  notRemembered: Type.Optional(NotRemembered),
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
