import { Ewma } from '@allerac/router';

/** Thrown when this node's queue is full: the caller should try the next candidate. */
export class NodeBusyError extends Error {
  override name = 'NodeBusyError';
  constructor(slots: number, queueLimit: number) {
    super(`this node is busy: ${slots} generations running and ${queueLimit} waiting`);
  }
}

/** Default parallel generations; Ollama's OLLAMA_NUM_PARALLEL is commonly 1 to 4. */
export const DEFAULT_SLOTS = 4;
/** Requests that may wait for a slot before the node answers "busy". */
export const DEFAULT_QUEUE_LIMIT = 16;

/** This node's live load as the mesh card publishes it. */
export interface LoadSnapshot {
  activeTasks: number;
  queueDepth: number;
  slots: number;
  tokensPerSecond: Record<string, number>;
}

/**
 * Limits how many generations this node's backend runs at once, queues the rest up to a limit,
 * and measures throughput per model. Every generation on this node, whether asked over HTTP or by
 * a peer, holds a slot while it runs.
 */
export class LocalLoad {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly throughput = new Map<string, Ewma>();
  private readonly firstToken = new Map<string, Ewma>();

  constructor(
    readonly slots = DEFAULT_SLOTS,
    readonly queueLimit = DEFAULT_QUEUE_LIMIT,
    private readonly onChange: () => void = () => {},
  ) {}

  /** Waits for a slot and returns its release function; throws NodeBusyError when the queue is full. */
  async acquire(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.active >= this.slots) {
      if (this.waiting.length >= this.queueLimit) throw new NodeBusyError(this.slots, this.queueLimit);
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const index = this.waiting.indexOf(grant);
          if (index >= 0) this.waiting.splice(index, 1);
          this.onChange();
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(grant);
        this.onChange();
      });
    } else {
      this.active += 1;
    }
    this.onChange();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // A waiter inherits the slot, so `active` stays the same.
      if (next !== undefined) next();
      else this.active -= 1;
      this.onChange();
    };
  }

  /** Records one finished generation's speed and time to first token. */
  record(model: string, tokensPerSecond: number | undefined, ttftMs: number | undefined): void {
    if (tokensPerSecond !== undefined && Number.isFinite(tokensPerSecond) && tokensPerSecond > 0) {
      ewmaFor(this.throughput, model).update(tokensPerSecond);
    }
    if (ttftMs !== undefined && Number.isFinite(ttftMs) && ttftMs >= 0)
      ewmaFor(this.firstToken, model).update(ttftMs);
  }

  /** Measured time to first token for a model on this node, when known. */
  ttftMs(model: string): number | undefined {
    return this.firstToken.get(model)?.value;
  }

  /** The load as published in the card. */
  snapshot(): LoadSnapshot {
    const tokensPerSecond: Record<string, number> = {};
    for (const [model, ewma] of this.throughput) {
      if (ewma.value !== undefined) tokensPerSecond[model] = Math.round(ewma.value * 10) / 10;
    }
    return { activeTasks: this.active, queueDepth: this.waiting.length, slots: this.slots, tokensPerSecond };
  }
}

function ewmaFor(map: Map<string, Ewma>, key: string): Ewma {
  let ewma = map.get(key);
  if (ewma === undefined) {
    ewma = new Ewma();
    map.set(key, ewma);
  }
  return ewma;
}
