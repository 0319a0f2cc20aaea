/**
 * Memory-aware chat: before a chat goes to a model, the memories closest to the user's last
 * message (private ones and those of the spaces this node holds) are added as a system message,
 * and the answer's final `allerac` field lists them. "remember ..." messages add a memory.
 * Opt out per request with `allerac: { memories: false }` in the body or `X-Allerac-Memories: off`.
 */
import type { OllamaObject } from '../backend/backend.js';
import type { ChatContextHook } from '../http/generation.js';
import type { MemoryService } from './memory-service.js';

/** The header that turns memories off for one request. */
export const MEMORIES_HEADER = 'x-allerac-memories';

/** "remember that X", "remember: X", "Remember X" at the start of a message. */
const REMEMBER = /^\s*remember(?:\s+that)?[\s,:]+(\S[\s\S]*)$/i;

/** The text to remember in a user message, or undefined when it is not a "remember ..." request. */
export function rememberRequest(content: string): string | undefined {
  const match = REMEMBER.exec(content);
  const text = match?.[1]?.trim().replace(/[.!]+$/, '');
  return text === undefined || text === '' ? undefined : text;
}

/** Builds the chat hook over a memory service. */
export function chatMemoryHook(memory: MemoryService): ChatContextHook {
  return async (ollamaRequest, request) => {
    const { allerac: options } = ollamaRequest as OllamaObject & { allerac?: unknown };
    // The `allerac` field stays: the gateway reads its routing options (policy, node) and strips it.
    const clean = ollamaRequest;
    const body = request.body as { allerac?: { memories?: unknown } } | undefined;
    const optOut =
      body?.allerac?.memories === false ||
      (options as { memories?: unknown } | undefined)?.memories === false ||
      String(request.headers[MEMORIES_HEADER] ?? '').toLowerCase() === 'off';
    const messages = Array.isArray(clean.messages) ? (clean.messages as Array<Record<string, unknown>>) : [];
    const lastUser = [...messages].reverse().find((m) => m.role === 'user');
    const question = typeof lastUser?.content === 'string' ? lastUser.content : '';
    const extra: Record<string, unknown> = {};
    const toRemember = rememberRequest(question);
    if (toRemember !== undefined) {
      const added = await memory.add({ text: toRemember, source: 'chat' });
      extra.remembered = { id: added.id, text: added.text };
    }
    if (optOut) return { request: clean, allerac: extra };
    const hits = toRemember === undefined ? await memory.forChat(question) : [];
    // Listed only when some were used, so answers without memories keep their usual shape.
    if (hits.length === 0) return { request: clean, allerac: extra };
    extra.memories = hits.map((hit) => ({
      id: hit.id,
      text: hit.text,
      score: Math.round(hit.score * 10_000) / 10_000,
    }));
    const context = {
      role: 'system',
      content:
        'Things you remember that may help with this conversation (use them only if relevant):\n' +
        hits.map((hit) => `- ${hit.text}`).join('\n'),
    };
    const firstNonSystem = messages.findIndex((m) => m.role !== 'system');
    const at = firstNonSystem === -1 ? messages.length : firstNonSystem;
    return {
      request: { ...clean, messages: [...messages.slice(0, at), context, ...messages.slice(at)] },
      allerac: extra,
    };
  };
}
