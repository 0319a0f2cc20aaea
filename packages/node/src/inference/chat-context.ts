/**
 * The contract of a hook that looks at a chat before it is routed (memory-aware chat): what it is
 * told about the caller, and what it may change. The HTTP layer fills in the caller; the hook
 * knows nothing of HTTP.
 */
import type { Principal } from '../auth/api-tokens.js';
import type { OllamaObject } from '../backend/backend.js';
import type { PrepareRequest } from './gateway.js';

/** Who asks for a chat, and for how long the answer is wanted. */
export interface ChatCaller {
  /** The credential the request came with; undefined when it carried none. */
  principal: Principal | undefined;
  /** The caller turned memories off for this one request. */
  memoriesOff: boolean;
  /**
   * The memories the chat may draw on, when something (an agent) restricts them: shared space
   * names, `private` for this node's private memories, `*` for every shared space. Absent: all.
   */
  memorySpaces?: readonly string[] | undefined;
  /**
   * The agent the chat is with, when it is with one: its slug, and whether it may write memories
   * (a "remember …" message, proposals from the conversation).
   */
  agent?: { slug: string; memoryWrite: boolean } | undefined;
  /** The conversation the chat is recorded in (new or continued). */
  conversationId?: string | undefined;
  /**
   * Aborted when the client goes away or the node shuts down: whatever the hook does for the
   * chat (a memory lookup) stops with it.
   */
  signal: AbortSignal;
}

/** What a chat hook decided for one request. */
export interface ChatContext {
  /** The request to route (its `allerac` routing options stay for the gateway). */
  request: OllamaObject;
  /** Fields for the final `allerac` whoever serves (e.g. the memory a "remember" message added). */
  allerac?: Record<string, unknown>;
  /**
   * Adds context for the node chosen to serve, after placement and again on every retry or
   * continuation elsewhere: what a node may be given depends on which node it is.
   */
  prepare?: PrepareRequest;
}

/** Looks at a chat before it is routed. Must be cheap when it has nothing to add. */
export type ChatContextHook = (request: OllamaObject, caller: ChatCaller) => Promise<ChatContext>;
