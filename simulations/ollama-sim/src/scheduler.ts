/** Generation slots and the wait queue, like Ollama's OLLAMA_NUM_PARALLEL and OLLAMA_MAX_QUEUE. */

/** A place in line: `ready` resolves when a slot is granted. */
export interface SlotTicket {
  /** Resolves once the request holds a slot. */
  ready: Promise<void>;
  /** Gives the slot back, or leaves the queue; safe to call twice. */
  release(): void;
}

/** Grants up to `slots()` concurrent holders; up to `queueLimit()` more wait in FIFO order. */
export class SlotScheduler {
  private holders = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly slots: () => number,
    private readonly queueLimit: () => number,
  ) {}

  /** Requests holding a slot. */
  get active(): number {
    return this.holders;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Takes a slot or a place in the queue; undefined when the queue is full. */
  acquire(): SlotTicket | undefined {
    if (this.holders < this.slots() && this.waiting.length === 0) {
      this.holders++;
      return this.ticket(Promise.resolve(), () => true);
    }
    if (this.waiting.length >= this.queueLimit()) return undefined;
    let granted = false;
    let grant!: () => void;
    const ready = new Promise<void>((resolve) => {
      grant = () => {
        granted = true;
        resolve();
      };
    });
    this.waiting.push(grant);
    return this.ticket(ready, () => {
      if (granted) return true;
      const index = this.waiting.indexOf(grant);
      if (index >= 0) this.waiting.splice(index, 1);
      return false;
    });
  }

  private ticket(ready: Promise<void>, holdsSlot: () => boolean): SlotTicket {
    let released = false;
    return {
      ready,
      release: () => {
        if (released) return;
        released = true;
        if (holdsSlot()) this.handOver();
      },
    };
  }

  /** A holder left: the slot goes to the next in line, or is freed. */
  private handOver(): void {
    const next = this.waiting.shift();
    if (next !== undefined && this.holders <= this.slots()) next();
    else this.holders--;
  }

  /** Drops every waiter without granting (used on close). */
  clear(): void {
    this.waiting.length = 0;
  }
}
