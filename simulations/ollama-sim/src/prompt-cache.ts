/**
 * The KV cache of a loaded model, one per parallel slot, as llama-server keeps them for Ollama
 * (llm/llama_server.go starts it with `-np` slots and sends `cache_prompt: true`). A request takes
 * a free slot: the one whose cached prompt shares the largest part of the new prompt, when that is
 * at least `SLOT_SIMILARITY` of it, else the least recently used one; it evaluates only what the
 * slot does not share, and afterwards the slot holds its prompt and answer. A slot in use cannot
 * be taken (runner/ollamarunner/cache.go, findLongestCacheSlot, skips `InUse` slots too). Here a
 * prompt is a list of segments (one per message), compared whole: a message is cached or not.
 */

/** One piece of a prompt as the template renders it: a message, or the preamble. */
export interface PromptSegment {
  /** What the segment says (role and content); equal keys are equal tokens. */
  key: string;
  /** Tokens it takes. */
  tokens: number;
}

/** llama-server's default `--slot-prompt-similarity`: below it a slot's prefix is not sought out. */
export const SLOT_SIMILARITY = 0.1;

interface Slot {
  segments: readonly PromptSegment[];
  /** Clock of its last release; -1 for a slot never used, which is taken first. */
  usedAt: number;
  inUse: boolean;
}

/** A slot held by one request. */
export interface HeldSlot {
  /** Tokens of the prompt found in the slot, never all of them (one is evaluated to sample from). */
  cachedTokens: number;
  /** After a finished request: the slot now holds this sequence (prompt and answer). */
  store(sequence: readonly PromptSegment[]): void;
  /** Frees the slot; safe to call twice. */
  release(): void;
}

/** The slots of one loaded model; as many as it runs requests in parallel. */
export class PromptCache {
  private readonly slots: Slot[] = [];
  private clock = 0;

  constructor(private readonly size: () => number) {}

  /** Takes the slot a request for `prompt` gets, with the tokens it already holds. */
  take(prompt: readonly PromptSegment[]): HeldSlot {
    while (this.slots.length < Math.max(1, this.size()))
      this.slots.push({ segments: [], usedAt: -1, inUse: false });
    const total = prompt.reduce((sum, s) => sum + s.tokens, 0);
    const free = this.slots.filter((slot) => !slot.inUse);
    let slot: Slot | undefined;
    let shared = 0;
    for (const candidate of free) {
      const tokens = sharedTokens(candidate.segments, prompt);
      if (tokens > shared && tokens >= SLOT_SIMILARITY * total) {
        shared = tokens;
        slot = candidate;
      }
    }
    if (slot === undefined) {
      shared = 0;
      slot = free.reduce<Slot | undefined>(
        (lru, s) => (lru === undefined || s.usedAt < lru.usedAt ? s : lru),
        undefined,
      );
    }
    // More requests than slots only happens while a reload overlaps the old runner: no cache then.
    const held: Slot = slot ?? { segments: [], usedAt: -1, inUse: false };
    held.inUse = true;
    let released = false;
    return {
      cachedTokens: Math.max(0, Math.min(shared, total - 1)),
      store: (sequence) => {
        held.segments = sequence;
      },
      release: () => {
        if (released) return;
        released = true;
        held.inUse = false;
        held.usedAt = ++this.clock;
      },
    };
  }
}

function sharedTokens(cached: readonly PromptSegment[], prompt: readonly PromptSegment[]): number {
  let tokens = 0;
  for (let i = 0; i < Math.min(cached.length, prompt.length); i++) {
    if (cached[i]!.key !== prompt[i]!.key) break;
    tokens += prompt[i]!.tokens;
  }
  return tokens;
}
