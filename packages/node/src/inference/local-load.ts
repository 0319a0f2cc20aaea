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
/**
 * Requests that may wait for a slot before the node answers "busy": Ollama's own OLLAMA_MAX_QUEUE
 * default (envconfig/config.go), so that a burst one Ollama would queue is queued here too. The
 * router still sends a request to an idle peer first: it ranks by the expected wait.
 */
export const DEFAULT_QUEUE_LIMIT = 512;
/**
 * The share of the slots, and of the queue, that one peer may hold. A paired peer may ask for
 * inference but must never take every local slot (design.md, threat model): with half each, a
 * peer flooding this node leaves the other half to this node's own users and other peers.
 */
export const DEFAULT_PEER_SHARE = 0.5;

/** How many slots and queue places one peer may hold on `load`; at least one of each. */
export function peerLimits(load: Pick<LocalLoad, 'slots' | 'queueLimit' | 'peerShare'>): {
  slots: number;
  queue: number;
} {
  return {
    slots: Math.max(1, Math.floor(load.slots * load.peerShare)),
    queue: Math.max(1, Math.floor(load.queueLimit * load.peerShare)),
  };
}

/** This node's live load as the mesh card publishes it. */
export interface LoadSnapshot {
  activeTasks: number;
  queueDepth: number;
  slots: number;
  tokensPerSecond: Record<string, number>;
}

/** A request waiting for a slot. */
interface Waiter {
  /** The peer that asked, or undefined for this node's own requests. */
  peer: string | undefined;
  grant: () => void;
}

/**
 * Limits how many generations this node's backend runs at once, queues the rest up to a limit,
 * and measures throughput per model. Every generation on this node, whether asked over HTTP or by
 * a peer, holds a slot while it runs; each peer holds at most its share (see {@link peerLimits}).
 */
export class LocalLoad {
  private active = 0;
  private readonly waiting: Waiter[] = [];
  /** Slots and queue places held per peer. */
  private readonly activeByPeer = new Map<string, number>();
  private readonly waitingByPeer = new Map<string, number>();
  private readonly throughput = new Map<string, Ewma>();
  private readonly firstToken = new Map<string, Ewma>();

  constructor(
    readonly slots = DEFAULT_SLOTS,
    readonly queueLimit = DEFAULT_QUEUE_LIMIT,
    private readonly onChange: () => void = () => {},
    /** See {@link DEFAULT_PEER_SHARE}. */
    readonly peerShare = DEFAULT_PEER_SHARE,
  ) {}

  /**
   * Waits for a slot and returns its release function; throws NodeBusyError when the queue is
   * full, or when `peer` (the peer asking; undefined for this node's own requests) already holds
   * its share of the queue.
   */
  async acquire(signal: AbortSignal, peer?: string): Promise<() => void> {
    signal.throwIfAborted();
    if (this.mayStart(peer)) {
      this.take(peer);
    } else {
      if (this.waiting.length >= this.queueLimit) throw new NodeBusyError(this.slots, this.queueLimit);
      if (peer !== undefined && (this.waitingByPeer.get(peer) ?? 0) >= peerLimits(this).queue) {
        throw new NodeBusyError(this.slots, this.queueLimit);
      }
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          peer,
          grant: () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          const index = this.waiting.indexOf(waiter);
          if (index >= 0) {
            this.waiting.splice(index, 1);
            count(this.waitingByPeer, peer, -1);
          }
          this.onChange();
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(waiter);
        count(this.waitingByPeer, peer, 1);
        this.onChange();
      });
    }
    this.onChange();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      count(this.activeByPeer, peer, -1);
      this.dispatch();
      this.onChange();
    };
  }

  /** Whether a request from `peer` may start now: a free slot, and the peer below its share. */
  private mayStart(peer: string | undefined): boolean {
    if (this.active >= this.slots) return false;
    return peer === undefined || (this.activeByPeer.get(peer) ?? 0) < peerLimits(this).slots;
  }

  private take(peer: string | undefined): void {
    this.active += 1;
    count(this.activeByPeer, peer, 1);
  }

  /** Starts waiters in arrival order, skipping those whose peer is at its share. */
  private dispatch(): void {
    for (let i = 0; i < this.waiting.length && this.active < this.slots; ) {
      const waiter = this.waiting[i]!;
      if (!this.mayStart(waiter.peer)) {
        i += 1;
        continue;
      }
      this.waiting.splice(i, 1);
      count(this.waitingByPeer, waiter.peer, -1);
      this.take(waiter.peer);
      waiter.grant();
    }
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

function count(map: Map<string, number>, peer: string | undefined, delta: number): void {
  if (peer === undefined) return;
  const next = (map.get(peer) ?? 0) + delta;
  if (next <= 0) map.delete(peer);
  else map.set(peer, next);
}

function ewmaFor(map: Map<string, Ewma>, key: string): Ewma {
  let ewma = map.get(key);
  if (ewma === undefined) {
    ewma = new Ewma();
    map.set(key, ewma);
  }
  return ewma;
}
