/** An opt-in log of the API requests a simulator received, for tests that check what reached Ollama. */
import type { RecordedRequest } from './types.js';

/** Requests kept at most; older ones are dropped first, so a long benchmark cannot grow it without end. */
export const MAX_RECORDED_REQUESTS = 1_000;

/** The log itself: off until enabled, bounded, and never changing what the simulator answers. */
export class RequestLog {
  private readonly entries: RecordedRequest[] = [];

  constructor(
    private enabled = false,
    private readonly capacity = MAX_RECORDED_REQUESTS,
  ) {}

  /** Records one request as received: its method, path without the query, and raw body text. */
  record(method: string, path: string, body: string): void {
    if (!this.enabled) return;
    this.entries.push({ method, path, body, receivedAt: Date.now() });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  /** The recorded requests, oldest first (a copy). */
  list(): RecordedRequest[] {
    return this.entries.map((entry) => ({ ...entry }));
  }

  /** Forgets every recorded request. */
  clear(): void {
    this.entries.length = 0;
  }
}
