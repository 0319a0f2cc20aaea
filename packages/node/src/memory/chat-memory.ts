/**
 * Memory-aware chat: the memories closest to the user's last message are added as a system
 * message, chosen for the node that serves the chat, once the gateway has placed it (and again
 * for each retry or continuation on another node):
 * - this node: private memories and those of every space it holds (`scope: 'private+shared'`);
 * - a peer: only memories of spaces whose policy names that peer, which it may hold already
 *   (`scope: 'shared'`); none when there is no such space (`scope: 'none'`).
 * Private memories never leave this node. The final `allerac` says what was given:
 * `memory: { scope, used }`, and `memories: [...]` when some were used.
 * "remember ..." messages add a memory, unless the chat is with an agent that may not write
 * memories (`allerac.notRemembered` says so). A chat with an agent that may write proposes the
 * user's statements about themselves as memories to keep or discard (memory-proposals.ts;
 * `allerac.proposals`). Opt out per request with `allerac: { memories: false }`
 * in the body or `X-Allerac-Memories: off`. The lookup stops when the client goes away, and
 * within a short budget in any case (MemoryService.forChat).
 */
import { mayShareWith } from '@allerac/memory-sync';
import type { OllamaObject } from '../backend/backend.js';
import { documentHit } from '../documents/document-search.js';
import type { ChatContextHook } from '../inference/chat-context.js';
import type { PreparedRequest, ServingNode } from '../inference/gateway.js';
import type { MemoryHit } from '../store/memory-repository.js';
import type { MemoryProposals } from './memory-proposals.js';
import { accessFor, type MemoryService, memberKeyOf } from './memory-service.js';
import { proposeFromMessage } from './proposal-extractor.js';

/**
 * Memories searched once per chat, from which each serving node's k are picked: enough that the
 * closest shared ones are found for a peer even when private ones score higher.
 */
export const CHAT_MEMORY_POOL = 50;

/** Which memories the serving node could be given. */
export type MemoryScope = 'private+shared' | 'shared' | 'none';

/** The `allerac.memory` field of a chat's final object. */
export interface ChatMemoryUse {
  /** `private+shared`: this node served; `shared`: a peer served, given only spaces it may hold; `none`: a peer that may hold none. */
  scope: MemoryScope;
  /** How many memories were added to the chat. */
  used: number;
}

/** "remember that X", "remember: X", "Remember X" at the start of a message. */
const REMEMBER = /^\s*remember(?:\s+that)?[\s,:]+(\S[\s\S]*)$/i;

/** The text to remember in a user message, or undefined when it is not a "remember ..." request. */
export function rememberRequest(content: string): string | undefined {
  const match = REMEMBER.exec(content);
  const text = match?.[1]?.trim().replace(/[.!]+$/, '');
  return text === undefined || text === '' ? undefined : text;
}

/** Builds the chat hook over a memory service; with `proposals`, agents that may write propose memories. */
export function chatMemoryHook(memory: MemoryService, proposals?: MemoryProposals): ChatContextHook {
  return async (ollamaRequest, caller) => {
    const { allerac: options } = ollamaRequest as OllamaObject & { allerac?: unknown };
    // The `allerac` field stays: the gateway reads its routing options (policy, node) and strips it.
    const clean = ollamaRequest;
    const optOut = caller.memoriesOff || (options as { memories?: unknown } | undefined)?.memories === false;
    const messages = Array.isArray(clean.messages) ? (clean.messages as Array<Record<string, unknown>>) : [];
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    const question = typeof lastUser?.content === 'string' ? lastUser.content : '';
    const extra: Record<string, unknown> = {};
    const toRemember = rememberRequest(question);
    const mayWrite = caller.agent === undefined || caller.agent.memoryWrite;
    if (toRemember !== undefined && !mayWrite) {
      extra.notRemembered = { text: toRemember, reason: 'agent-write-off' };
    } else if (toRemember !== undefined) {
      const added = await memory.add({
        text: toRemember,
        source: 'chat',
        owner: memberKeyOf(caller.principal) ?? null,
      });
      extra.remembered = { id: added.id, text: added.text };
    } else if (!optOut && proposals !== undefined && caller.agent?.memoryWrite === true) {
      const texts = proposeFromMessage(question);
      if (texts.length > 0) {
        proposals.propose({
          texts,
          member: memberKeyOf(caller.principal),
          conversationId: caller.conversationId,
          agent: caller.agent.slug,
        });
        extra.proposals = { texts };
      }
    }
    // Off, or a "remember" message: the answer keeps its usual shape, with no `memory` field.
    if (optOut || toRemember !== undefined || !memory.chatSettings().enabled) {
      return { request: clean, allerac: extra };
    }
    const access = accessFor(caller.principal);
    const allowed = caller.memorySpaces;
    // An agent that may read no memories gets none: no lookup at all.
    if (allowed !== undefined && allowed.length === 0) return { request: clean, allerac: extra };
    const permitted = (hit: MemoryHit) =>
      allowed === undefined ||
      (hit.space === null
        ? allowed.includes('private')
        : allowed.includes('*') || allowed.includes(hit.space));
    let pool: Promise<MemoryHit[]> | undefined;
    // Searched at most once, and only when some node may be given memories at all.
    const closest = () => {
      pool ??= memory.forChat(question, access, CHAT_MEMORY_POOL, caller.signal);
      return pool;
    };
    return {
      request: clean,
      allerac: extra,
      prepare: async (prepared, node) => {
        const visible = node.isLocal ? undefined : spacesVisibleTo(memory, node.id);
        if (visible !== undefined && visible.size === 0) return withMemories(prepared, 'none', []);
        const hits = (await closest())
          .filter((hit) => visible === undefined || (hit.space !== null && visible.has(hit.space)))
          .filter(permitted)
          .slice(0, memory.chatSettings().k);
        return withMemories(prepared, node.isLocal ? 'private+shared' : 'shared', hits, (next) =>
          mayBeGiven(memory, hits, next),
        );
      },
    };
  };
}

/** The spaces whose policy lets `peerId` hold them: the only memories a chat it serves may carry. */
function spacesVisibleTo(memory: MemoryService, peerId: string): Set<string> {
  return new Set(
    memory
      .listSpaces()
      .filter((space) => mayShareWith(space.policy, peerId))
      .map((space) => space.name),
  );
}

/** Whether `node` may see every one of `hits` (a partial answer drawn from them goes there). */
function mayBeGiven(memory: MemoryService, hits: readonly MemoryHit[], node: ServingNode): boolean {
  if (node.isLocal || hits.length === 0) return true;
  const visible = spacesVisibleTo(memory, node.id);
  return hits.every((hit) => hit.space !== null && visible.has(hit.space));
}

/** The body with `hits` as a system message before the conversation, and the metadata saying so. */
function withMemories(
  body: OllamaObject,
  scope: MemoryScope,
  hits: readonly MemoryHit[],
  mayContinueOn?: (next: ServingNode) => boolean,
): PreparedRequest {
  const use: ChatMemoryUse = { scope, used: hits.length };
  if (hits.length === 0) return { body, allerac: { memory: use } };
  const messages = Array.isArray(body.messages) ? (body.messages as Array<Record<string, unknown>>) : [];
  const context = {
    role: 'system',
    content:
      'Things you remember that may help with this conversation (use them only if relevant):\n' +
      hits
        .map((hit) => {
          const citation = citationOf(hit);
          return citation === undefined ? `- ${hit.text}` : `- ${citation} ${hit.text}`;
        })
        .join('\n') +
      (hits.some((hit) => citationOf(hit) !== undefined)
        ? '\nWhen you use a part of a document, cite it as written before it, e.g. [name, part N].'
        : ''),
  };
  const firstNonSystem = messages.findIndex((m) => m.role !== 'system');
  const at = firstNonSystem === -1 ? messages.length : firstNonSystem;
  return {
    body: { ...body, messages: [...messages.slice(0, at), context, ...messages.slice(at)] },
    allerac: {
      memory: use,
      memories: hits.map((hit) => ({
        id: hit.id,
        text: hit.text,
        score: Math.round(hit.score * 10_000) / 10_000,
        space: hit.space,
        ...(citationOf(hit) === undefined ? {} : { citation: citationOf(hit) }),
      })),
    },
    mayContinueOn,
  };
}

/** `[document name, part N]` for a part of an imported document; undefined for any other memory. */
const citationOf = (hit: MemoryHit): string | undefined => documentHit(hit)?.citation;
