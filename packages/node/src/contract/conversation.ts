/** /allerac/v1/conversations: chat history from the store. */
import { type Static, Type } from '@sinclair/typebox';
import { AnswerMetadata } from './chat.js';
import { Closed, IsoTime, Nullable, OneOf, RequiredText } from './schema.js';

/** Which conversations GET /allerac/v1/conversations lists (`?source=`; default `ui`). */
export const CONVERSATION_SOURCES = ['ui', 'api', 'all'] as const;
export type ConversationSource = (typeof CONVERSATION_SOURCES)[number];

/** One conversation as listed, most recent first. */
export const ConversationHeader = Closed({
  id: Type.String(),
  title: Type.String(),
  /** `ui` for the web UI's chats; otherwise the API another client used (`ollama-api`, `openai-api`). */
  source: Type.String(),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  messageCount: Type.Number(),
});
export type ConversationHeader = Static<typeof ConversationHeader>;

/** GET /allerac/v1/conversations. */
export const ConversationList = Closed({ conversations: Type.Array(ConversationHeader) });
export type ConversationList = Static<typeof ConversationList>;

/** One stored message; `metadata` holds what the answer's final chunk said (`AnswerInfo`). */
export const StoredMessage = Closed({
  id: Type.Number(),
  conversationId: Type.String(),
  role: Type.String(),
  content: Type.String(),
  model: Nullable(Type.String()),
  node: Nullable(Type.String()),
  /**
   * An answer's state: `generating` while it runs (follow it on /live), then `complete`,
   * `stopped` (its user stopped it), `partial` (cut off; `metadata.error` says why) or `failed`
   * (no answer; `metadata.error`). Questions are `complete`.
   */
  status: Type.String(),
  metadata: AnswerMetadata,
  createdAt: IsoTime,
});
export type StoredMessage = Static<typeof StoredMessage>;

/** GET /allerac/v1/conversations/:id/messages. */
export const ConversationMessages = Closed({ id: Type.String(), messages: Type.Array(StoredMessage) });
export type ConversationMessages = Static<typeof ConversationMessages>;

/** Longest conversation title a rename may set. */
export const MAX_CONVERSATION_TITLE = 200;

/** PATCH /allerac/v1/conversations/:id: a new title, 1–200 characters, not only spaces. */
export const RenameConversationRequest = Type.Object({ title: RequiredText(MAX_CONVERSATION_TITLE) });
export type RenameConversationRequest = Static<typeof RenameConversationRequest>;

/** Whether the serving node had the model in memory when the answer went to it. */
export const ModelState = OneOf(['loaded', 'cold'] as const);
export type ModelState = Static<typeof ModelState>;

/** How an answer ended. */
export const FinalAnswerStatus = OneOf(['complete', 'stopped', 'partial', 'failed'] as const);
export type FinalAnswerStatus = Static<typeof FinalAnswerStatus>;

/**
 * One event of GET /allerac/v1/conversations/:id/live (SSE; the event name is `type`): first a
 * `snapshot` with everything generated so far, then `serving` when the answer goes to a node
 * (again on a failover), `delta` for more text, and `end` last.
 */
export const LiveAnswerEvent = Type.Union([
  Closed({
    type: Type.Literal('snapshot'),
    conversationId: Type.String(),
    model: Type.String(),
    /** The node the answer went to; null until placed. */
    node: Nullable(Type.String()),
    /** `cold`: the model is being loaded there before the first token. */
    modelState: Nullable(ModelState),
    /** The whole answer text so far. */
    content: Type.String(),
  }),
  Closed({ type: Type.Literal('serving'), node: Type.String(), modelState: Nullable(ModelState) }),
  Closed({ type: Type.Literal('delta'), content: Type.String() }),
  Closed({ type: Type.Literal('end'), status: FinalAnswerStatus, error: Nullable(Type.String()) }),
]);
export type LiveAnswerEvent = Static<typeof LiveAnswerEvent>;
