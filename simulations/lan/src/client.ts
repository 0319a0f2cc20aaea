/** A small HTTP client for one node's APIs, used from the root namespace with an admin token. */

/** One peer as GET /allerac/v1/peers shows it (the fields the scenarios read). */
export interface PeerInfo {
  id: string;
  name: string;
  status: 'online' | 'gone';
  models: string[];
  loadedModels: string[];
  lastSeen: string;
  rttMs: number | null;
}

/** One ranked candidate of GET /allerac/v1/route. */
export interface RouteCandidate {
  rank: number;
  id: string;
  name: string;
  model: string;
  eligible: boolean;
  estimateMs: number | null;
  reason: string;
}

/** A chat answer as the client saw it. */
export interface ChatResult {
  status: number;
  /** X-Allerac-Node: the first choice. */
  servedBy: string | undefined;
  content: string;
  /** The final chunk's `allerac` field. */
  allerac: { node?: string; failovers?: number } | undefined;
  /** Milliseconds from the request to the first token, and to the end. */
  firstTokenMs: number;
  totalMs: number;
  /** Arrival time of each token chunk, in ms from the request. */
  tokenTimes: number[];
  /** The final chunk. */
  final: Record<string, unknown> | undefined;
}

/** An HTTP error from a node, with its status and body. */
export class NodeHttpError extends Error {
  override name = 'NodeHttpError';
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what} answered ${status}: ${body.slice(0, 300)}`);
  }
}

/** Talks to one node at `baseUrl` with a bearer token. */
export class NodeClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private headers(json: boolean): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, ...(json ? { 'content-type': 'application/json' } : {}) };
  }

  /** GET a JSON document. */
  async get<T>(path: string, timeoutMs = 5_000): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      headers: this.headers(false),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new NodeHttpError(response.status, text, `GET ${path}`);
    return JSON.parse(text) as T;
  }

  /** POST JSON, returns the JSON answer. */
  async post<T>(path: string, body: unknown, timeoutMs = 30_000): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method: 'POST',
      headers: this.headers(true),
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (!response.ok) throw new NodeHttpError(response.status, text, `POST ${path}`);
    return JSON.parse(text) as T;
  }

  /** The peers this node sees. */
  peers(timeoutMs = 5_000): Promise<PeerInfo[]> {
    return this.get<PeerInfo[]>('/allerac/v1/peers', timeoutMs);
  }

  /** The router's ranked candidates for `model`. */
  route(model: string): Promise<RouteCandidate[]> {
    return this.get<RouteCandidate[]>(`/allerac/v1/route?model=${encodeURIComponent(model)}`);
  }

  /**
   * A streamed Ollama chat (/api/chat). `onToken` is called after each token chunk with the
   * count so far, so a scenario can act mid-answer. Bounded by `timeoutMs`.
   */
  async chat(
    request: {
      model: string;
      messages: { role: string; content: string }[];
      options?: Record<string, unknown>;
    },
    options: { timeoutMs?: number; onToken?: (count: number) => void } = {},
  ): Promise<ChatResult> {
    const started = performance.now();
    const response = await fetch(`${this.baseUrl}/api/chat`, {
      method: 'POST',
      headers: this.headers(true),
      body: JSON.stringify({ ...request, stream: true }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    });
    const servedBy = response.headers.get('x-allerac-node') ?? undefined;
    if (!response.ok || response.body === null) {
      throw new NodeHttpError(response.status, await response.text(), 'POST /api/chat');
    }
    const decoder = new TextDecoder();
    let buffer = '';
    let content = '';
    let final: Record<string, unknown> | undefined;
    const tokenTimes: number[] = [];
    const onLine = (line: string) => {
      if (line.trim() === '') return;
      const chunk = JSON.parse(line) as Record<string, unknown>;
      if (typeof chunk.error === 'string') throw new NodeHttpError(response.status, line, 'chat stream');
      const piece = (chunk.message as { content?: string } | undefined)?.content ?? '';
      if (piece !== '') {
        content += piece;
        tokenTimes.push(performance.now() - started);
        options.onToken?.(tokenTimes.length);
      }
      if (chunk.done === true) final = chunk;
    };
    for await (const bytes of response.body) {
      buffer += decoder.decode(bytes as Uint8Array, { stream: true });
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        onLine(buffer.slice(0, newline));
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
      }
    }
    onLine(buffer);
    return {
      status: response.status,
      servedBy,
      content,
      allerac: final?.allerac as ChatResult['allerac'],
      firstTokenMs: tokenTimes[0] ?? Number.NaN,
      totalMs: performance.now() - started,
      tokenTimes,
      final,
    };
  }
}
