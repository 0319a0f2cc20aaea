/** Everything one simulator instance holds: hardware, models, slots, faults, counters, timers. */

import { FaultState } from './faults.js';
import { installFromDisk } from './model-from-manifest.js';
import type { DiskModelStore } from './model-store-disk.js';
import { ModelStore } from './models.js';
import { SlotScheduler } from './scheduler.js';
import type { HardwareProfile, ScriptedToolCall, SimModel, SimStats } from './types.js';

/** Counters behind SimStats (active and queued come from the scheduler). */
export interface Counters {
  requests: number;
  completed: number;
  cancelled: number;
  rejected: number;
  tokens: number;
}

/** Something cancellable that must stop when the simulator closes or crashes. */
export interface Stoppable {
  stop(): void;
}

/** Shared state of one simulator. */
export class SimState {
  readonly store: ModelStore;
  readonly scheduler: SlotScheduler;
  readonly faults = new FaultState();
  /** Scripted answers: the last user message's text to the reply (see `scriptedPlan`). */
  replies = new Map<string, string>();
  /** Scripted tool calls: the last user message's text to the calls made (see `scriptedToolCalls`). */
  toolCalls = new Map<string, ScriptedToolCall[]>();
  counters: Counters = { requests: 0, completed: 0, cancelled: 0, rejected: 0, tokens: 0 };
  /** Open streams and waits, stopped on close. */
  readonly running = new Set<Stoppable>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** True once closed or crashed: nothing new starts. */
  stopped = false;

  constructor(
    readonly profile: HardwareProfile,
    readonly version: string,
    readonly initialModels: SimModel[],
    readonly preloadNames: string[],
    /** Called when a fault says the process dies (exitAfterTokens). */
    readonly crash: () => void,
    /** The store on disk (`storeDir`); absent keeps models in memory only. */
    disk?: { store: DiskModelStore; modelBytes: number },
  ) {
    this.store = new ModelStore(
      () => this.profile,
      (ms) => this.sleep(ms),
      disk,
    );
    this.scheduler = new SlotScheduler(
      () => this.profile.parallelSlots,
      () => this.profile.queueLimit,
    );
    this.resetModels();
  }

  /** Counters for stats(). */
  stats(): SimStats {
    return { ...this.counters, active: this.scheduler.active, queued: this.scheduler.queued };
  }

  /** Restores the installed models and preloaded set given at start. */
  resetModels(): void {
    this.store.installed.clear();
    this.store.loaded.clear();
    this.store.blobs.clear();
    for (const model of this.initialModels) this.store.install(model);
    // Models already on disk (pulled or created by an earlier run) are listed as Ollama lists them.
    if (this.store.disk !== undefined) installFromDisk(this.store);
    for (const name of this.preloadNames) {
      const entry = this.store.find(name);
      if (entry === undefined)
        throw new Error(`cannot preload "${name}": it is not among the installed models`);
      this.store.preload(entry);
    }
  }

  /** A timer the simulator clears on close; `ms` may be fractional. */
  setTimer(fn: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        fn();
      },
      Math.max(0, ms),
    );
    this.timers.add(timer);
    return timer;
  }

  /** Cancels a timer made by setTimer. */
  clearTimer(timer: NodeJS.Timeout | undefined): void {
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  /** Waits `ms`; never resolves once the simulator stops (its timer is cleared). */
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => this.setTimer(resolve, ms));
  }

  /** Stops every stream and timer. */
  stopAll(): void {
    this.stopped = true;
    for (const item of [...this.running]) item.stop();
    this.running.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.scheduler.clear();
  }
}
