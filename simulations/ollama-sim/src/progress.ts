/**
 * Progress answers of pull and create, as Ollama's streamResponse and waitForStream send them
 * (server/routes.go): NDJSON lines of api.ProgressResponse by default; with `stream: false` one
 * object, the last line. An error before any line gets its own status (500 unless said); after a
 * line it goes in-band as `{"error": ...}` and the status stays 200.
 */
import type { ServerResponse } from 'node:http';
import type { ClientWatch } from './client-watch.js';
import { OllamaApiError } from './errors.js';
import { sendJson } from './http-util.js';
import type { SimState } from './state.js';

/** api.ProgressResponse; zero totals are omitted (omitempty). */
export interface ProgressLine {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

/** One progress answer. */
export class ProgressStream {
  private latest: ProgressLine = { status: '' };

  constructor(
    private readonly state: SimState,
    private readonly res: ServerResponse,
    private readonly client: ClientWatch,
    private readonly stream: boolean,
  ) {}

  /** False once the client left or the simulator stopped: the work should stop too. */
  get alive(): boolean {
    return !this.client.gone && !this.state.stopped;
  }

  /** Sends one line (or keeps it as the latest, unstreamed). */
  emit(line: ProgressLine): void {
    const shown: ProgressLine = { status: line.status };
    if (line.digest !== undefined && line.digest !== '') shown.digest = line.digest;
    if (line.total !== undefined && line.total !== 0) shown.total = line.total;
    if (line.completed !== undefined && line.completed !== 0) shown.completed = line.completed;
    this.latest = shown;
    if (!this.stream || !this.alive) return;
    if (!this.res.headersSent) this.res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    this.res.write(`${JSON.stringify(shown)}\n`);
  }

  /** Waits `ms`; false when the client left meanwhile. */
  async pause(ms: number): Promise<boolean> {
    await this.state.sleep(ms);
    return this.alive;
  }

  /** Ends with an error: its status before any line, in-band after. */
  fail(error: OllamaApiError): void {
    if (!this.alive || this.res.writableEnded) return;
    if (this.stream && this.res.headersSent) {
      this.res.end(`${JSON.stringify({ error: error.message })}\n`);
      return;
    }
    sendJson(this.res, error.status, { error: error.message });
  }

  /** Ends the answer after its last line. */
  finish(): void {
    if (!this.alive || this.res.writableEnded) return;
    if (!this.stream) {
      sendJson(this.res, 200, this.latest);
      return;
    }
    if (!this.res.headersSent) this.res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    this.res.end();
  }

  /** Runs `work` (false when it stopped because the client left), ending the answer with its outcome. */
  async run(work: () => Promise<boolean>): Promise<void> {
    try {
      if (await work()) this.finish();
      else if (this.client.gone) this.state.counters.cancelled++;
    } catch (error) {
      if (!(error instanceof OllamaApiError)) throw error;
      this.fail(error);
    }
  }
}
