/** /allerac/v1/conversations: chat history from the store. */
import { type Static, Type } from '@sinclair/typebox';
import { AnswerMetadata } from './chat.js';
import { Closed, IsoTime, Nullable } from './schema.js';

/** One conversation as listed, most recent first. */
export const ConversationHeader = Closed({
  id: Type.String(),
  title: Type.String(),
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
  /** 'complete', or 'partial'/'failed' when the answer was cut off. */
  status: Type.String(),
  metadata: AnswerMetadata,
  createdAt: IsoTime,
});
export type StoredMessage = Static<typeof StoredMessage>;

/** GET /allerac/v1/conversations/:id/messages. */
export const ConversationMessages = Closed({ id: Type.String(), messages: Type.Array(StoredMessage) });
export type ConversationMessages = Static<typeof ConversationMessages>;
