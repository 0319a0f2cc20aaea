/** The HTTP server: routing, control endpoints under /_sim, lifecycle and the crash fault. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { handleCreateBlob, handleHeadBlob } from './api-blobs.js';
import { handleChat, handleGenerate } from './api-chat.js';
import { handleCreate } from './api-create.js';
import { handleEmbed, handleEmbeddings } from './api-inference.js';
import { handleCopy, handleDelete, handlePs, handleShow, handleTags } from './api-models.js';
import { handlePull } from './api-pull.js';
import { DEFAULT_MODELS, resolveModel } from './catalog.js';
import { watchClient } from './client-watch.js';
import { OllamaApiError } from './errors.js';
import { type JsonObject, parseJsonObject, readBody, sendError, sendJson, sendText } from './http-util.js';
import { DEFAULT_MODEL_BYTES, DiskModelStore } from './model-store-disk.js';
import { resolveProfile } from './profiles.js';
import { handleRegistry } from './registry-serve.js';
import { RequestLog } from './request-log.js';
import { SimState } from './state.js';
import type { FaultPlan, OllamaSim, OllamaSimOptions, ScriptedToolCall } from './types.js';

/** Version reported by /api/version unless the options say otherwise. */
export const DEFAULT_VERSION = '0.12.0';

/** How the simulator dies on an exitAfterTokens fault. */
export interface SimHooks {
  /** Replaces the default crash (drop every socket and stop listening), e.g. with process.exit. */
  onCrash?: () => void;
}

/** The simulator's state with its request log. */
interface Sim {
  state: SimState;
  log: RequestLog;
  /** Whether `/v2/…` answers as a registry (`serveRegistry`). */
  registry: boolean;
}

type BodyHandler = (
  state: SimState,
  req: IncomingMessage,
  res: ServerResponse,
  body: JsonObject,
  startedAt: number,
) => Promise<void> | void;

interface Route {
  goType: string;
  /** Inference routes are where error faults apply. */
  inference: boolean;
  handler: BodyHandler;
}

const POST_ROUTES: Record<string, Route> = {
  '/api/chat': {
    goType: 'ChatRequest',
    inference: true,
    handler: (s, _q, r, b, t) => handleChat(s, r, watchClient(r), b, t),
  },
  '/api/generate': {
    goType: 'GenerateRequest',
    inference: true,
    handler: (s, _q, r, b, t) => handleGenerate(s, r, watchClient(r), b, t),
  },
  '/api/embed': {
    goType: 'EmbedRequest',
    inference: true,
    handler: (s, _q, r, b, t) => handleEmbed(s, r, watchClient(r), b, t),
  },
  '/api/embeddings': {
    goType: 'EmbeddingRequest',
    inference: true,
    handler: (s, _q, r, b) => handleEmbeddings(s, r, watchClient(r), b),
  },
  '/api/show': { goType: 'ShowRequest', inference: false, handler: (s, _q, r, b) => handleShow(s, r, b) },
  '/api/pull': {
    goType: 'PullRequest',
    inference: false,
    handler: (s, _q, r, b) => handlePull(s, r, watchClient(r), b),
  },
  '/api/copy': { goType: 'CopyRequest', inference: false, handler: (s, _q, r, b) => handleCopy(s, r, b) },
  '/api/create': {
    goType: 'CreateRequest',
    inference: false,
    handler: (s, _q, r, b) => handleCreate(s, r, watchClient(r), b),
  },
};

/** gin's `/api/blobs/:digest`: one path segment after the prefix. */
const BLOB_ROUTE = /^\/api\/blobs\/([^/]+)$/;

const KNOWN_PATHS = new Set([
  '/',
  '/api/version',
  '/api/tags',
  '/api/ps',
  '/api/delete',
  '/_sim/stats',
  '/_sim/faults',
  '/_sim/reset',
  '/_sim/requests',
  ...Object.keys(POST_ROUTES),
]);

/** The path segment unescaped, or as sent when its escapes are broken (then no digest matches). */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

async function route(
  { state, log, registry }: Sim,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const startedAt = performance.now();
  const path = (req.url ?? '/').split('?')[0]!;
  const method = req.method ?? 'GET';
  if (!path.startsWith('/_sim/')) {
    state.counters.requests++;
    // Bodies are recorded where they are read; requests without one are recorded here.
    if (method !== 'POST' && method !== 'DELETE') log.record(method, path, '');
  }

  if (path === '/' && (method === 'GET' || method === 'HEAD')) return sendText(res, 200, 'Ollama is running');
  if (path === '/api/version' && (method === 'GET' || method === 'HEAD')) {
    return sendJson(res, 200, { version: state.version });
  }
  if (path === '/api/tags' && (method === 'GET' || method === 'HEAD')) return handleTags(state, res);
  if (path === '/api/ps' && method === 'GET') return handlePs(state, res);
  if (registry && handleRegistry(state, req, res, path)) return;
  const blob = BLOB_ROUTE.exec(path);
  if (blob !== null && (method === 'HEAD' || method === 'POST')) {
    const digest = safeDecode(blob[1]!);
    // Blob bodies are recorded without their bytes: they are files, not API requests.
    if (method === 'POST') log.record(method, path, '');
    if (method === 'HEAD') return handleHeadBlob(state, res, digest);
    return handleCreateBlob(state, req, res, digest);
  }
  if (path === '/api/delete' && method === 'DELETE') {
    const raw = await readBody(req);
    log.record(method, path, raw);
    return handleDelete(state, res, parseJsonObject(raw, 'DeleteRequest'));
  }
  const post = POST_ROUTES[path];
  if (post !== undefined && method === 'POST') {
    const raw = await readBody(req);
    log.record(method, path, raw);
    if (post.inference) {
      const fault = state.faults.nextError();
      if (fault !== undefined) throw fault;
    }
    return post.handler(state, req, res, parseJsonObject(raw, post.goType), startedAt);
  }
  if (path === '/_sim/stats' && method === 'GET') return sendJson(res, 200, state.stats());
  if (path === '/_sim/faults' && method === 'GET') return sendJson(res, 200, state.faults.plan);
  if (path === '/_sim/faults' && method === 'POST') {
    state.faults.set(parseJsonObject(await readBody(req), 'FaultPlan') as FaultPlan);
    return sendJson(res, 200, state.faults.plan);
  }
  if (path === '/_sim/requests' && method === 'GET') return sendJson(res, 200, { requests: log.list() });
  if (path === '/_sim/reset' && method === 'POST') {
    await readBody(req);
    state.counters = { requests: 0, completed: 0, cancelled: 0, rejected: 0, tokens: 0 };
    state.faults.set({});
    state.resetModels();
    log.clear();
    return sendJson(res, 200, state.stats());
  }
  // gin's defaults: 405 for a known path with another method, 404 otherwise.
  if (KNOWN_PATHS.has(path) || blob !== null) return sendText(res, 405, '405 method not allowed');
  return sendText(res, 404, '404 page not found');
}

/** Starts a simulator; `hooks` lets the CLI turn the crash fault into a real process exit. */
export async function createOllamaSim(
  options: OllamaSimOptions = {},
  hooks: SimHooks = {},
): Promise<OllamaSim> {
  if (
    options.storeDir === undefined &&
    (options.serveRegistry === true || options.modelBytes !== undefined)
  ) {
    throw new Error('serveRegistry and modelBytes need a storeDir');
  }
  if (
    options.modelBytes !== undefined &&
    !(Number.isSafeInteger(options.modelBytes) && options.modelBytes > 0)
  ) {
    throw new Error(`modelBytes must be a positive integer, got ${options.modelBytes}`);
  }
  const profile = resolveProfile(options.profile);
  const models = (options.models ?? DEFAULT_MODELS).map(resolveModel);
  const sockets = new Set<Socket>();
  let closing: Promise<void> | undefined;

  // Ollama's http.Server sets no IdleTimeout nor ReadTimeout (server/routes.go, Serve), so Go keeps
  // an idle kept-alive connection open for good; Node's default would close it after 5 s, and a
  // client's next request could cross that close.
  const server = createServer({ keepAliveTimeout: 0 });
  const dropEverything = () => {
    state.stopAll();
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      dropEverything();
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  };
  const state: SimState = new SimState(
    profile,
    options.version ?? DEFAULT_VERSION,
    models,
    options.preload ?? [],
    hooks.onCrash ?? (() => void close()),
    options.storeDir !== undefined
      ? {
          store: new DiskModelStore(options.storeDir),
          modelBytes: options.modelBytes ?? DEFAULT_MODEL_BYTES,
        }
      : undefined,
  );
  if (options.faults !== undefined) state.faults.set(options.faults);
  if (options.replies !== undefined) state.replies = new Map(Object.entries(options.replies));
  if (options.toolCalls !== undefined) state.toolCalls = new Map(Object.entries(options.toolCalls));
  const log = new RequestLog(options.recordRequests === true);

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (state.stopped) {
      res.destroy();
      return;
    }
    route({ state, log, registry: options.serveRegistry === true }, req, res).catch((error: unknown) => {
      if (res.destroyed) return;
      if (error instanceof OllamaApiError) sendError(res, error.status, error.message);
      else sendError(res, 500, error instanceof Error ? error.message : String(error));
    });
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    setFaults: (faults: FaultPlan) => state.faults.set(faults),
    setReplies: (replies: Record<string, string>) => {
      state.replies = new Map(Object.entries(replies));
    },
    setToolCalls: (toolCalls: Record<string, ScriptedToolCall[]>) => {
      state.toolCalls = new Map(Object.entries(toolCalls));
    },
    stats: () => state.stats(),
    requests: () => log.list(),
    close,
  };
}

/** Starts an Ollama API simulator on loopback (port 0 unless given). */
export function startOllamaSim(options: OllamaSimOptions = {}): Promise<OllamaSim> {
  return createOllamaSim(options);
}
