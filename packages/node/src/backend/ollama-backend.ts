// The browser build: the Node build reads any `images` entry that names an existing file from
// this machine's disk, and a request's images are the caller's text, never a path on this node.
import { Ollama } from 'ollama/browser';
import type { Logger } from 'pino';
import { InvalidInputError } from '../errors.js';
import type {
  Backend,
  BackendHealth,
  BackendHealthListener,
  BackendModel,
  LoadedModel,
  OllamaObject,
} from './backend.js';
import { classifyClientFailure, failureDetail } from './client-failure.js';
import {
  BackendProtocolError,
  BackendRequestError,
  BackendResponseError,
  BackendUnavailableError,
} from './errors.js';
import { NdjsonResponseError, postNdjson } from './ndjson-request.js';

/** Options of the Ollama backend. */
export interface OllamaBackendInit {
  /** Base URL of Ollama, e.g. http://127.0.0.1:11434. */
  url: string;
  /** How often to check health while up; a failure re-checks sooner. */
  healthIntervalMs?: number;
  /** How often to retry while unreachable, so the node reconnects by itself. */
  retryIntervalMs?: number;
}

/** Injected dependencies. */
export interface OllamaBackendComponents {
  logger: Logger;
  fetch?: typeof fetch;
}

const DEFAULT_HEALTH_INTERVAL_MS = 10_000;
const DEFAULT_RETRY_INTERVAL_MS = 2_000;
/** A health probe that takes longer than this counts as a failure. */
const HEALTH_TIMEOUT_MS = 3_000;

/** Accepts OLLAMA_HOST's forms (`host:port`, `:port`, `0.0.0.0`) and returns a base URL. */
export function normalizeOllamaUrl(raw: string): string {
  let value = raw.trim();
  if (value.startsWith(':')) value = `127.0.0.1${value}`;
  if (!/^[a-z]+:\/\//i.test(value)) value = `http://${value}`;
  const url = new URL(value);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  if (url.port === '' && !raw.includes('://')) url.port = '11434';
  return url.toString().replace(/\/$/, '');
}

/** An Ollama URL that Settings cannot use: not http(s), or not a URL at all. */
export class InvalidOllamaUrlError extends InvalidInputError {
  override name = 'InvalidOllamaUrlError';
  constructor(raw: string) {
    super(
      `ollamaUrl must be an http:// or https:// URL such as http://127.0.0.1:11434, got "${raw.slice(0, 200)}"`,
      {
        code: 'invalid_ollama_url',
        param: 'ollamaUrl',
      },
    );
  }
}

/**
 * A URL given in Settings, as the backend will use it: http(s) only, with a host, and no user,
 * query or fragment (the client appends paths to it). Throws InvalidOllamaUrlError.
 */
export function parseOllamaUrl(raw: string): string {
  let normalized: string;
  try {
    normalized = normalizeOllamaUrl(raw);
  } catch {
    throw new InvalidOllamaUrlError(raw);
  }
  const url = new URL(normalized);
  const plain = url.username === '' && url.password === '' && url.search === '' && url.hash === '';
  if (!/^https?:$/.test(url.protocol) || url.hostname === '' || !plain) throw new InvalidOllamaUrlError(raw);
  return normalized;
}

/** The local Ollama through the official `ollama` client, with health tracking. */
class OllamaBackend implements Backend {
  url: string;
  private client: Ollama;
  private readonly fetch: typeof fetch;
  /** A fetch given by the caller (tests record what is sent): streams then go through the client. */
  private readonly injectedFetch: boolean;
  private readonly logger: Logger;
  private readonly healthIntervalMs: number;
  private readonly retryIntervalMs: number;
  private state: BackendHealth;
  private readonly listeners = new Set<BackendHealthListener>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly inflight = new Set<AbortController>();

  constructor(init: OllamaBackendInit, components: OllamaBackendComponents) {
    this.url = normalizeOllamaUrl(init.url);
    this.logger = components.logger;
    this.healthIntervalMs = init.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS;
    this.retryIntervalMs = init.retryIntervalMs ?? DEFAULT_RETRY_INTERVAL_MS;
    this.fetch = components.fetch ?? fetch;
    this.injectedFetch = components.fetch !== undefined;
    this.client = new Ollama({ host: this.url, fetch: this.fetch });
    this.state = { state: 'unknown', url: this.url };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.check();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const controller of this.inflight) controller.abort(new Error('backend stopped'));
  }

  async setUrl(raw: string): Promise<void> {
    const url = parseOllamaUrl(raw);
    if (url === this.url) return;
    this.logger.info(
      { event: 'backend-url-changed', from: this.url, to: url },
      'the backend moves to another Ollama',
    );
    this.url = url;
    this.client = new Ollama({ host: url, fetch: this.fetch });
    // Not announced: the check below announces the new URL's state, up or unreachable.
    this.state = { state: 'unknown', url };
    if (this.running) await this.check();
  }

  health(): BackendHealth {
    return { ...this.state };
  }

  onHealthChange(listener: BackendHealthListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async version(): Promise<string> {
    const { version } = await this.call(() => this.client.version());
    return version;
  }

  async list(): Promise<BackendModel[]> {
    const { models } = await this.call(() => this.client.list());
    return models as unknown as BackendModel[];
  }

  async ps(): Promise<LoadedModel[]> {
    const { models } = await this.call(() => this.client.ps());
    return models as unknown as LoadedModel[];
  }

  async show(request: OllamaObject): Promise<OllamaObject> {
    return (await this.call(() => this.client.show(request as never))) as unknown as OllamaObject;
  }

  async embed(request: OllamaObject, signal: AbortSignal): Promise<OllamaObject> {
    const client = this.clientFor(signal);
    const response = await this.call(() => abortable(client.embed(request as never), signal));
    return response as unknown as OllamaObject;
  }

  chat(request: OllamaObject, signal: AbortSignal): AsyncIterable<readonly OllamaObject[]> {
    return this.batches('chat', request, signal);
  }

  generate(request: OllamaObject, signal: AbortSignal): AsyncIterable<readonly OllamaObject[]> {
    return this.batches('generate', request, signal);
  }

  pull(
    model: string,
    signal: AbortSignal,
    options: { insecure?: boolean } = {},
  ): AsyncIterable<OllamaObject> {
    return this.stream('pull', { model, ...(options.insecure === true ? { insecure: true } : {}) }, signal);
  }

  async delete(model: string): Promise<void> {
    await this.call(() => this.client.delete({ model }));
  }

  async copy(source: string, destination: string): Promise<void> {
    await this.call(() => this.client.copy({ source, destination }));
  }

  create(request: OllamaObject, signal: AbortSignal): AsyncIterable<OllamaObject> {
    return this.stream('create', request, signal);
  }

  async hasBlob(digest: string): Promise<boolean> {
    const response = await this.call(() => this.fetch(this.blobUrl(digest), { method: 'HEAD' }));
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw new BackendResponseError(`the backend refused the blob digest "${digest}"`, response.status);
  }

  async createBlob(digest: string, body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<number> {
    // The client has no blob upload in its browser build: the injected fetch streams the file.
    const response = await this.call(() =>
      this.fetch(this.blobUrl(digest), {
        method: 'POST',
        body: body as never,
        duplex: 'half',
        signal,
      } as RequestInit),
    );
    if (response.ok) {
      await response.body?.cancel();
      return response.status;
    }
    const text = await response.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // Ollama answers JSON; anything else is passed on as it came.
    }
    throw new BackendResponseError(message, response.status);
  }

  /** `/api/blobs/<digest>`, keeping the digest's colon as Ollama's clients send it. */
  private blobUrl(digest: string): string {
    return `${this.url}/api/blobs/${encodeURIComponent(digest).replace(/%3A/gi, ':')}`;
  }

  /**
   * The client's calls take no signal: a client for one call whose fetch carries it, so a cancelled
   * caller (a chat whose user left, a stop pressed during a cold load) stops Ollama's work too,
   * even before Ollama has sent its response headers, not only the wait.
   */
  private clientFor(signal: AbortSignal): Ollama {
    const base = this.fetch;
    return new Ollama({
      host: this.url,
      fetch: (input, init) =>
        base(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }),
    });
  }

  /** Progress streams (pull, create) object by object: they are not on any token's path. */
  private async *stream(
    endpoint: 'pull' | 'create',
    request: OllamaObject,
    signal: AbortSignal,
  ): AsyncGenerator<OllamaObject> {
    for await (const batch of this.batches(endpoint, request, signal)) yield* batch;
  }

  /** A stream from Ollama in the batches its reads delivered (see ndjson-request.ts). */
  private async *batches(
    endpoint: 'chat' | 'generate' | 'pull' | 'create',
    request: OllamaObject,
    signal: AbortSignal,
  ): AsyncGenerator<readonly OllamaObject[]> {
    signal.throwIfAborted();
    const controller = new AbortController();
    this.inflight.add(controller);
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const body = { ...request, stream: true } as never;
    let iterator: AsyncIterable<readonly OllamaObject[]>;
    let completed = false;
    try {
      iterator = this.injectedFetch
        ? singles(await this.startWithClient(endpoint, body, controller.signal))
        : await this.call(() => this.startDirect(endpoint, body, controller.signal));
      let finished = false;
      for await (const batch of iterator) {
        for (const chunk of batch) {
          if (typeof chunk !== 'object' || chunk === null)
            throw new BackendProtocolError('backend sent a non-object chunk');
          if (typeof chunk.error === 'string') throw new BackendResponseError(chunk.error, 500);
          if (chunk.done === true || (isProgress(endpoint) && chunk.status === 'success')) finished = true;
        }
        yield batch;
      }
      if (controller.signal.aborted) throw controller.signal.reason;
      if (!finished) {
        // The ollama client drops lines it cannot parse, so garbage and a dead backend both end
        // here: a stream without its final chunk.
        this.markUnhealthyLater();
        throw new BackendProtocolError(
          `the backend at ${this.url} ended the ${endpoint} stream before it was done`,
        );
      }
      completed = true;
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason;
      if (error instanceof BackendProtocolError || error instanceof BackendResponseError) throw error;
      if (error instanceof BackendUnavailableError) throw error;
      // The client throws a plain Error with the text of an `{"error"}` line; for pull and create
      // that is Ollama's verdict (an unknown model, a registry failure), with its 500, not a break.
      if (isProgress(endpoint) && isStreamedError(error))
        throw new BackendResponseError((error as Error).message, 500);
      // The connection broke after the stream had started: the backend died or reset it.
      this.markUnhealthyLater();
      const detail = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new BackendProtocolError(
        `the backend at ${this.url} broke off the ${endpoint} stream (${detail})`,
        {
          cause: error,
        },
      );
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.inflight.delete(controller);
      // A finished stream's connection is reused for the next one; aborting would destroy it.
      if (!completed) controller.abort();
    }
  }

  /** A stream through the `ollama` client, on the injected fetch. */
  private async startWithClient(
    endpoint: 'chat' | 'generate' | 'pull' | 'create',
    body: never,
    signal: AbortSignal,
  ): Promise<AsyncIterable<OllamaObject>> {
    const client = this.clientFor(signal);
    const started =
      endpoint === 'chat'
        ? client.chat(body)
        : endpoint === 'generate'
          ? client.generate(body)
          : endpoint === 'pull'
            ? client.pull(body)
            : client.create(body);
    const iterator = (await this.call(() =>
      abortable(started as Promise<unknown>, signal),
    )) as AsyncIterable<OllamaObject> & { abort(): void };
    signal.addEventListener('abort', () => iterator.abort(), { once: true });
    if (signal.aborted) iterator.abort();
    return iterator;
  }

  /** A stream on `node:http`: the path every forwarded token takes (see ndjson-request.ts). */
  private async startDirect(
    endpoint: 'chat' | 'generate' | 'pull' | 'create',
    body: OllamaObject,
    signal: AbortSignal,
  ): Promise<AsyncIterable<readonly OllamaObject[]>> {
    if (endpoint === 'chat') checkImages(body);
    return postNdjson(`${this.url}/api/${endpoint}`, JSON.stringify(body), signal);
  }

  /** Runs a client call, translating its failures into typed errors and tracking health. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      if (this.state.state !== 'up') void this.check();
      return result;
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** Only a transport failure marks the backend unreachable; a request the client refused is a 400. */
  private translate(error: unknown): Error {
    if (isResponseError(error) || error instanceof NdjsonResponseError)
      return new BackendResponseError(error.error, error.status_code);
    if (error instanceof BackendResponseError || error instanceof BackendProtocolError) return error;
    if (error instanceof Error && error.name === 'AbortError') return error;
    if (error instanceof SyntaxError)
      return new BackendProtocolError(`the backend at ${this.url} sent invalid JSON`);
    switch (classifyClientFailure(error)) {
      case 'transport': {
        const detail = failureDetail(error);
        this.setHealth({ state: 'unreachable', url: this.url, error: detail, checkedAt: Date.now() });
        this.schedule(this.retryIntervalMs);
        return new BackendUnavailableError(this.url, detail, { cause: error });
      }
      case 'request':
        return new BackendRequestError(`invalid request: ${(error as Error).message}`, { cause: error });
      default:
        return error instanceof Error ? error : new Error(String(error));
    }
  }

  private markUnhealthyLater(): void {
    this.schedule(0);
  }

  private async check(): Promise<void> {
    clearTimeout(this.timer);
    const { client, url } = this;
    try {
      const { version } = await abortable(client.version(), AbortSignal.timeout(HEALTH_TIMEOUT_MS));
      // A check of the URL that setUrl replaced meanwhile says nothing about the new one.
      if (client !== this.client) return;
      this.setHealth({ state: 'up', url, version, checkedAt: Date.now() });
      this.schedule(this.healthIntervalMs);
    } catch (error) {
      if (client !== this.client) return;
      const cause = (error as { cause?: { code?: string } }).cause;
      const detail = cause?.code ?? (error as Error).message;
      this.setHealth({ state: 'unreachable', url, error: detail, checkedAt: Date.now() });
      this.schedule(this.retryIntervalMs);
    }
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), delayMs);
    this.timer.unref();
  }

  private setHealth(next: BackendHealth): void {
    const changed =
      next.state !== this.state.state || next.version !== this.state.version || next.url !== this.state.url;
    this.state = next;
    if (!changed) return;
    if (next.state === 'up') this.logger.info({ url: next.url, version: next.version }, 'backend is up');
    else this.logger.warn({ url: next.url, error: next.error }, 'backend is unreachable');
    for (const listener of this.listeners) listener(this.health());
  }
}

/**
 * The `ollama` client maps each message's images and so refuses a chat whose `images` is not a
 * list with a TypeError: the caller's bad request (400), which Ollama would only answer later.
 */
function checkImages(body: OllamaObject): void {
  if (!Array.isArray(body.messages)) return;
  for (const message of body.messages as Array<{ images?: unknown } | null>) {
    const images = message?.images;
    if (images && !Array.isArray(images)) throw new TypeError('message.images must be a list');
  }
}

/** Endpoints that stream Ollama's ProgressResponse and end with `status: success`. */
function isProgress(endpoint: string): boolean {
  return endpoint === 'pull' || endpoint === 'create';
}

/** An error line the client turned into `new Error(text)`: no cause, not a transport failure. */
function isStreamedError(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.constructor === Error &&
    error.cause === undefined &&
    classifyClientFailure(error) === 'other'
  );
}

/** The ollama client's ResponseError, which it does not export: an HTTP error with Ollama's message. */
function isResponseError(error: unknown): error is { error: string; status_code: number } {
  return (
    error instanceof Error &&
    error.name === 'ResponseError' &&
    typeof (error as { status_code?: unknown }).status_code === 'number'
  );
}

/** Resolves with `promise`, or rejects as soon as `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Creates the Ollama backend. */
export function createOllamaBackend(init: OllamaBackendInit, components: OllamaBackendComponents): Backend {
  return new OllamaBackend(init, components);
}

/** The `ollama` client's objects, each a batch of its own. */
async function* singles(objects: AsyncIterable<OllamaObject>): AsyncGenerator<readonly OllamaObject[]> {
  for await (const object of objects) yield [object];
}
