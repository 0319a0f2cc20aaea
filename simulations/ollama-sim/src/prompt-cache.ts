/**
 * The KV cache of a loaded model, as Ollama's runner keeps one per parallel slot: a new request
 * takes the slot sharing the longest prefix with its prompt and evaluates only the rest, and the
 * slot then holds that prompt and the answer (runner/ollamarunner/cache.go, LoadCacheSlot). Here a
 * prompt is a list of segments (one per message), compared whole: a message is cached or not.
 */

/** One piece of a prompt as the template renders it: a message, or the preamble. */
export interface PromptSegment {
  /** What the segment says (role and content); equal keys are equal tokens. */
  key: string;
  /** Tokens it takes. */
  tokens: number;
}

interface Slot {
  segments: readonly PromptSegment[];
  usedAt: number;
}

/** The slots of one loaded model; as many as it runs requests in parallel. */
export class PromptCache {
  private readonly slots: Slot[] = [];
  private clock = 0;

  constructor(private readonly size: () => number) {}

  /**
   * Tokens of `prompt` found in the best slot. At least one token is always evaluated, as the
   * runner needs a fresh token to sample from.
   */
  cachedTokens(prompt: readonly PromptSegment[]): number {
    const total = prompt.reduce((sum, s) => sum + s.tokens, 0);
    const best = Math.max(0, ...this.slots.map((slot) => sharedTokens(slot.segments, prompt)));
    return Math.max(0, Math.min(best, total - 1));
  }

  /** After a request: its prompt and answer replace the slot it matched best, or the oldest one. */
  remember(sequence: readonly PromptSegment[]): void {
    this.clock++;
    let index = -1;
    let best = 0;
    this.slots.forEach((slot, i) => {
      const shared = sharedTokens(slot.segments, sequence);
      if (shared > best) {
        best = shared;
        index = i;
      }
    });
    if (index < 0 && this.slots.length < Math.max(1, this.size())) {
      this.slots.push({ segments: sequence, usedAt: this.clock });
      return;
    }
    if (index < 0) {
      index = this.slots.reduce(
        (oldest, slot, i) => (slot.usedAt < this.slots[oldest]!.usedAt ? i : oldest),
        0,
      );
    }
    this.slots[index] = { segments: sequence, usedAt: this.clock };
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
