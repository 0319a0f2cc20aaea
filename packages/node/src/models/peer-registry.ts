/**
 * A registry on loopback that this node's Ollama pulls from, each request forwarded to the peer
 * that holds the model over MODELS_PROTOCOL. It answers as download.go demands: the manifest with
 * the Docker v2 media type, a HEAD with the blob's size, a plain GET answered 200 with a Location
 * naming itself (resp.Location() is the direct URL; a same-host 307 would end on a 200 without
 * one), and the Range parts as 206. It listens only while a copy runs, and only on 127.0.0.1.
 * A Range part's bytes come over the holder's bulk lane when it offers one (bulk-lane.ts), and
 * over the MODELS_PROTOCOL stream otherwise.
 *
 * Any local process can reach a loopback port, so the registry answers for the one model being
 * copied and nothing else: its URL namespace is a random token (a process that does not know it
 * gets 404s), its manifest is the only one forwarded, and only blobs that manifest names are.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ModelsGetMessage } from '@allerac/protocol';
import type { Logger } from 'pino';
import { exactly, openLane } from './bulk-lane-client.js';
import { type ModelsResponse, type OpenStream, readAll, requestFromPeer } from './models-client.js';

/** The media type Ollama asks a manifest for and stores it as. */
export const MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';

const ROUTE = /^\/v2\/([^/]+)\/([^/]+)\/(manifests|blobs)\/([^/?]+)$/;

/** Options of a peer registry. */
export interface PeerRegistryOptions {
  /** The holder's peer id. */
  peerId: string;
  /** Registry host of the holder's manifest, e.g. `registry.ollama.ai`. */
  sourceHost: string;
  /** The one model this registry serves, as the holder names it. */
  model: { namespace: string; model: string; tag: string };
  open: OpenStream;
  logger: Logger;
  /** Called with every blob byte forwarded, for progress and measurement. */
  onBytes?(n: number): void;
  /**
   * The holder's host on the mesh connection: blob ranges are then asked over the bulk lane, and
   * over the mesh stream when the holder offers none or the lane cannot be opened.
   */
  laneHost?: string;
}

/** A range's bytes and how many there are, from the mesh stream or the bulk lane. */
interface RangeBody {
  length: number;
  source: Readable;
  abort(): void;
}

function overStream(response: ModelsResponse): RangeBody {
  const source = Readable.from(response.body, { objectMode: false });
  return { length: response.reply.length, source, abort: response.abort };
}

function registryError(res: ServerResponse, status: number, message: string): void {
  const code = status === 404 ? 'NOT_FOUND' : status === 416 ? 'RANGE_INVALID' : 'UNAVAILABLE';
  const body = JSON.stringify({ errors: [{ code, message }] });
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** `bytes=a-b` or `bytes=a-`; undefined when absent, null when malformed. */
function parseRange(header: string | undefined): { offset: number; length?: number } | undefined | null {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d+)-(\d*)$/.exec(header);
  if (match === null) return null;
  const offset = Number(match[1]);
  if (match[2] === '') return { offset };
  const end = Number(match[2]);
  return end >= offset ? { offset, length: end - offset + 1 } : null;
}

/** A running loopback registry. */
export class PeerRegistry {
  private readonly server: Server;
  private readonly controller = new AbortController();
  /** The URL namespace that stands for the model's: unguessable by other local processes. */
  private readonly token = `copy-${randomBytes(16).toString('hex')}`;
  /** Digests the served manifest names: the only blobs forwarded. */
  private readonly blobs = new Set<string>();
  /** Set when a lane could not be opened: the rest of this copy stays on the mesh stream. */
  private laneFailed = false;

  private constructor(private readonly options: PeerRegistryOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        options.logger.debug({ err: (error as Error).message, url: req.url }, 'peer registry request failed');
        if (!res.headersSent) registryError(res, 502, `the peer broke off: ${(error as Error).message}`);
        else res.destroy(error as Error);
      });
    });
  }

  /** Starts one on 127.0.0.1 and an ephemeral port. */
  static async start(options: PeerRegistryOptions): Promise<PeerRegistry> {
    const registry = new PeerRegistry(options);
    await new Promise<void>((resolve, reject) => {
      registry.server.once('error', reject);
      registry.server.listen(0, '127.0.0.1', () => resolve());
    });
    return registry;
  }

  /** `127.0.0.1:<port>`, the registry host of the temporary model name. */
  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The name this node's Ollama pulls: `127.0.0.1:<port>/<token>/<model>:<tag>`. */
  get modelName(): string {
    return `${this.host}/${this.token}/${this.options.model.model}:${this.options.model.tag}`;
  }

  /** Stops listening and breaks off every forwarded request. */
  async close(): Promise<void> {
    this.controller.abort(new Error('copy ended'));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const match = ROUTE.exec(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (match === null || (method !== 'GET' && method !== 'HEAD')) {
      registryError(res, 404, 'not a registry route');
      return;
    }
    const [, namespace, model, kind, ref] = match as unknown as [string, string, string, string, string];
    const signal = this.controller.signal;
    const { open, peerId, sourceHost } = this.options;
    const wanted = this.options.model;
    if (
      namespace !== this.token ||
      model !== wanted.model ||
      (kind === 'manifests' ? ref !== wanted.tag : !this.blobs.has(ref))
    ) {
      registryError(res, 404, 'not the model being copied');
      return;
    }
    if (kind === 'manifests') {
      const get: ModelsGetMessage = {
        type: 'models-get',
        kind: 'manifest',
        host: sourceHost,
        namespace: wanted.namespace,
        model,
        tag: ref,
      };
      const response = await requestFromPeer(open, peerId, get, signal);
      const bytes = await readAll(response.body);
      if (response.reply.status >= 400) {
        registryError(res, response.reply.status, response.reply.error ?? 'manifest unknown');
        return;
      }
      for (const digest of manifestDigests(bytes)) this.blobs.add(digest);
      res.writeHead(200, { 'Content-Type': MANIFEST_MEDIA_TYPE, 'Content-Length': bytes.length });
      res.end(method === 'HEAD' ? undefined : bytes);
      return;
    }
    const range = parseRange(req.headers.range);
    if (range === null) {
      registryError(res, 416, 'malformed range');
      return;
    }
    // A HEAD, and the plain GET whose Location Ollama takes as the direct URL, need no bytes.
    const head = method === 'HEAD' || range === undefined;
    const get: ModelsGetMessage = {
      type: 'models-get',
      kind: 'blob',
      digest: ref,
      ...(range !== undefined ? { offset: range.offset } : {}),
      ...(range?.length !== undefined ? { length: range.length } : {}),
      ...(head ? { head: true } : {}),
    };
    const response = await this.requestBlob(get, signal);
    const { reply } = response;
    if (reply.status >= 400) {
      await readAll(response.body);
      registryError(res, reply.status, reply.error ?? 'blob unknown');
      return;
    }
    if (head) {
      await readAll(response.body);
      const headers: Record<string, string | number> = {
        'Content-Type': 'application/octet-stream',
        'Content-Length': method === 'HEAD' ? reply.size : 0,
        'Docker-Content-Digest': ref,
      };
      if (method === 'GET') headers.Location = `http://${this.host}${req.url ?? ''}`;
      res.writeHead(200, headers);
      res.end();
      return;
    }
    const bytes = await this.rangeBody(get, response, signal);
    const start = range?.offset ?? 0;
    res.writeHead(206, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': bytes.length,
      'Content-Range': `bytes ${start}-${start + bytes.length - 1}/${reply.size}`,
    });
    try {
      // Back-pressure end to end: Ollama's pace sets how fast the lane or the stream is read. The
      // records of one read of the lane (16 KiB each) leave in one socket write: the socket stays
      // corked until the loop's check phase, as http/stream.ts does for tokens.
      const onBytes = this.options.onBytes;
      const counted = (n: number) => {
        corkUntilCheck(res.socket);
        onBytes?.(n);
      };
      await pipeline(bytes.source, exactly(bytes.length, counted), res, { signal });
    } catch (error) {
      bytes.abort();
      throw error;
    }
  }

  /** The first request of a range, asking for the lane when the holder's host is known. */
  private async requestBlob(get: ModelsGetMessage, signal: AbortSignal): Promise<ModelsResponse> {
    const laneWanted = this.options.laneHost !== undefined && !this.laneFailed && get.head !== true;
    return requestFromPeer(
      this.options.open,
      this.options.peerId,
      laneWanted ? { ...get, lane: true } : get,
      signal,
    );
  }

  /** The bytes of a range answered `response`: over the lane its ticket names, or the mesh stream. */
  private async rangeBody(
    get: ModelsGetMessage,
    response: ModelsResponse,
    signal: AbortSignal,
  ): Promise<RangeBody> {
    const ticket = response.reply.lane;
    const host = this.options.laneHost;
    if (ticket === undefined || host === undefined) return overStream(response);
    await readAll(response.body);
    try {
      const socket = await openLane(host, ticket, signal);
      return { length: ticket.length, source: socket, abort: () => socket.destroy() };
    } catch (error) {
      if (signal.aborted) throw error;
      // A firewall that drops the lane's port would cost every part its connect timeout.
      this.laneFailed = true;
      this.options.logger.debug(
        { peer: this.options.peerId, err: (error as Error).message },
        'bulk lane unavailable: copying over the mesh stream',
      );
      const again = await requestFromPeer(this.options.open, this.options.peerId, get, signal);
      if (again.reply.status >= 400 || again.reply.lane !== undefined) {
        again.abort();
        throw new Error(`the holder answered ${again.reply.status} over the mesh stream`);
      }
      return overStream(again);
    }
  }
}

/** The config's and layers' digests a manifest names; none when it is not one. */
function manifestDigests(bytes: Uint8Array): string[] {
  try {
    const manifest = JSON.parse(Buffer.from(bytes).toString('utf8')) as {
      config?: { digest?: unknown };
      layers?: Array<{ digest?: unknown }>;
    };
    return [manifest.config, ...(Array.isArray(manifest.layers) ? manifest.layers : [])]
      .map((entry) => entry?.digest)
      .filter((digest): digest is string => typeof digest === 'string');
  } catch {
    return [];
  }
}

/** Corks `socket` until the event loop's check phase, unless it is corked already. */
function corkUntilCheck(socket: Socket | null): void {
  if (socket === null || socket.writableCorked > 0) return;
  socket.cork();
  // end() may have uncorked it already; uncorking an uncorked socket is a no-op.
  setImmediate(() => socket.uncork());
}
