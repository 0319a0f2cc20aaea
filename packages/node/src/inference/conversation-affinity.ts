/**
 * Where each conversation's last turn ran, so that the next turn can prefer the node whose KV
 * cache still holds the conversation's prefix (Ollama reuses it and evaluates only the new
 * tokens). A small LRU: forgetting a conversation only costs one prompt re-evaluation.
 */
import { createHash } from 'node:crypto';
import { type ConversationAffinity as Affinity, estimateTokens } from '@allerac/router';
import type { OllamaObject } from '../backend/backend.js';

/** Conversations remembered; a home has a handful going at once, and an entry is ~200 bytes. */
export const AFFINITY_CAPACITY = 512;
/**
 * Characters of a prompt that identify a conversation for a client that sends no conversation
 * id: enough to tell system prompts and first questions apart, small enough to hash per request.
 */
const PREFIX_CHARS = 4096;

interface Turn {
  nodeId: string;
  model: string;
  /** Tokens the node held after the turn: the prompt and the answer. */
  tokens: number;
}

interface Remembered extends Turn {
  /** The count of requests for the model on the node when the turn ran. */
  seq: number;
}

/** Each loaded model has its own runner and KV cache: only requests for it take its slots. */
const runnerOf = (nodeId: string, model: string) => `${nodeId}\0${model}`;

/** The last node of each conversation, bounded. */
export class ConversationAffinities {
  private readonly turns = new Map<string, Remembered>();
  /** Requests recorded per node and model, to tell how many came after a turn (bounded by the mesh's models). */
  private readonly sent = new Map<string, number>();

  constructor(private readonly capacity: number = AFFINITY_CAPACITY) {}

  /**
   * A conversation's key: its id when the client gave one (X-Allerac-Conversation), else a hash
   * of the model and its opening (system messages and the first user message, or the prompt's
   * first characters), which every later turn repeats. Undefined when there is nothing to key on.
   */
  keyOf(conversationId: string | undefined, body: OllamaObject): string | undefined {
    const model = typeof body.model === 'string' ? body.model : '';
    if (conversationId !== undefined && conversationId !== '') return `id:${model}:${conversationId}`;
    const opening = openingOf(body);
    if (opening === undefined) return undefined;
    return `prefix:${createHash('sha256').update(model).update('\0').update(opening).digest('base64url')}`;
  }

  /** The node of the previous turn and how many of this prompt's tokens it should still hold. */
  lookup(key: string | undefined, promptTokens: number): Affinity | undefined {
    if (key === undefined) return undefined;
    const turn = this.turns.get(key);
    if (turn === undefined) return undefined;
    this.turns.delete(key);
    this.turns.set(key, turn);
    return {
      nodeId: turn.nodeId,
      cachedTokens: Math.min(turn.tokens, promptTokens),
      laterRequests: (this.sent.get(runnerOf(turn.nodeId, turn.model)) ?? 0) - turn.seq,
    };
  }

  /** Remembers where a turn ran and how long the conversation is now; every request counts. */
  record(key: string | undefined, turn: Turn): void {
    const runner = runnerOf(turn.nodeId, turn.model);
    const seq = (this.sent.get(runner) ?? 0) + 1;
    this.sent.set(runner, seq);
    if (key === undefined) return;
    this.turns.delete(key);
    this.turns.set(key, { ...turn, seq });
    while (this.turns.size > this.capacity) {
      const oldest = this.turns.keys().next().value;
      if (oldest === undefined) break;
      this.turns.delete(oldest);
    }
  }

  /** Conversations remembered now. */
  get size(): number {
    return this.turns.size;
  }
}

/** The tokens a finished turn leaves in the serving node's cache: its prompt and its answer. */
export function turnTokens(promptTokens: number, final: OllamaObject): number {
  const evalCount = typeof final.eval_count === 'number' && final.eval_count > 0 ? final.eval_count : 0;
  return promptTokens + evalCount;
}

/** A prompt's length in tokens before tokenising, over the messages or the prompt. */
export function promptTokensOf(body: OllamaObject): number {
  let chars = typeof body.prompt === 'string' ? body.prompt.length : 0;
  if (typeof body.system === 'string') chars += body.system.length;
  if (Array.isArray(body.messages)) {
    for (const message of body.messages as Array<{ content?: unknown }>) {
      if (typeof message?.content === 'string') chars += message.content.length;
    }
  }
  return estimateTokens(chars);
}

function openingOf(body: OllamaObject): string | undefined {
  if (Array.isArray(body.messages)) {
    const parts: string[] = [];
    for (const message of body.messages as Array<{ role?: unknown; content?: unknown }>) {
      const content = typeof message?.content === 'string' ? message.content : '';
      parts.push(`${String(message?.role)}\0${content}`);
      if (message?.role === 'user') break;
    }
    // A first turn and a one-shot question look alike; both are keyed, and a one-shot's entry ages out.
    return parts.length === 0 ? undefined : parts.join('\0').slice(0, PREFIX_CHARS);
  }
  if (typeof body.prompt === 'string' && body.prompt !== '') {
    const system = typeof body.system === 'string' ? body.system : '';
    return `${system}\0${body.prompt}`.slice(0, PREFIX_CHARS);
  }
  return undefined;
}
