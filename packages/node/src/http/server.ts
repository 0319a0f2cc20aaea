import { MAX_INFER_BODY_BYTES } from '@allerac/protocol';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/api-tokens.js';
import { REDACTED_KEY, redactSecrets, rewriteDeviceUrl } from '../auth/device-url.js';
import { type BrowserGuardInit, BrowserPolicy, registerBrowserGuard } from './browser-guard.js';
import { registerConnectionLimits } from './connection-limits.js';
import { BadRequestError, errorBody, flavorOf, HttpError, toHttpError } from './errors.js';
import type { GenerationContext } from './generation.js';
import type { NodeMetrics } from './metrics.js';
import { registerOllamaApi } from './ollama-api.js';
import { registerOpenAiApi } from './openai-api.js';
import { type Authenticator, registerRouteAccess } from './route-access.js';
import { assertJsonDepth } from './validate.js';
import { frameworkErrorHandler } from './validation-errors.js';

/**
 * The largest request body accepted: 32 MiB, enough for a chat with several base64 images,
 * small enough that a runaway client cannot exhaust a mini-PC's memory. The protocol's number, so
 * every body accepted here also fits an inference frame to a peer.
 */
export const MAX_BODY_BYTES = MAX_INFER_BODY_BYTES;

/**
 * How long a client may take to send a whole request (headers and body): 32 MiB at a slow
 * 1 MB/s fits; a client trickling a body to pin a connection does not. Responses (long streams)
 * are not bounded by it.
 */
export const REQUEST_TIMEOUT_MS = 60_000;
/** How long a client may take to send the headers. */
export const HEADERS_TIMEOUT_MS = 15_000;

/** What the HTTP server needs. */
export interface ServerDeps extends GenerationContext {
  tokens: TokenVerifier;
  metrics: NodeMetrics;
  logger: Logger;
  softwareVersion: string;
  /** Extra credential checks for /allerac/* (the UI session), tried after bearer tokens. */
  authenticators?: readonly Authenticator[];
  /** `GET /health`'s body. */
  health: () => Promise<{ healthy: boolean } & Record<string, unknown>>;
  /** Registers more routes (management API, web UI) on the same instance. */
  extraRoutes?: ReadonlyArray<(app: FastifyInstance) => void | Promise<void>>;
  bodyLimit?: number;
  /** Extra origins and host names the browser rules accept (ALLERAC_ORIGINS, ALLERAC_HOSTS). */
  browser?: BrowserGuardInit;
}

/** Builds the node's HTTP server (not yet listening). */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit ?? MAX_BODY_BYTES,
    // Bounds receiving a request, never a streamed response: the node's own deadlines bound those.
    requestTimeout: REQUEST_TIMEOUT_MS,
    http: { headersTimeout: HEADERS_TIMEOUT_MS },
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // A URL Fastify cannot decode (`/api/%zz`) gets a 400 in the API's own error shape.
    frameworkErrors: frameworkErrorHandler,
    // `/k/<key>/api/...` continues as `/api/...` with the key kept aside for route-access, so no
    // URL past this point (routing, logs, error messages) holds a device key.
    rewriteUrl: rewriteDeviceUrl,
  });

  // Ollama accepts a JSON body whatever the Content-Type says (curl sends form encoding), so do we.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      const parsed: unknown = JSON.parse(text);
      // Deep nesting costs every later walk of the body; routes without a schema are bounded too.
      assertJsonDepth(parsed);
      done(null, parsed);
    } catch (error) {
      if (error instanceof BadRequestError) return done(error, undefined);
      done(new BadRequestError(`invalid JSON body: ${(error as Error).message}`), undefined);
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    const started = performance.now();
    reply.raw.once('close', () => {
      const route = request.routeOptions.url ?? 'unmatched';
      deps.metrics.httpRequests.inc({ route, method: request.method, status: String(reply.raw.statusCode) });
      deps.metrics.httpDuration.observe(
        { route, method: request.method },
        (performance.now() - started) / 1000,
      );
    });
  });

  registerConnectionLimits(app, deps.logger);
  // PostgreSQL text cannot hold NUL: a path or query carrying one is refused before any route.
  app.addHook('onRequest', async (request) => {
    if (/%00/i.test(request.url)) throw new BadRequestError('the URL contains a NUL character (%00)');
  });
  registerBrowserGuard(app, new BrowserPolicy(deps.browser));
  registerRouteAccess(app, deps.tokens, deps.authenticators ?? []);

  app.setErrorHandler(async (error, request, reply) => {
    const httpError = toHttpError(error);
    if (httpError.status >= 500 && httpError.status !== 502 && httpError.status !== 503) {
      request.log.error({ err: error, url: request.url }, 'request failed');
    } else {
      request.log.debug({ err: error, url: request.url, status: httpError.status }, 'request refused');
    }
    if (httpError.retryAfterSeconds !== undefined)
      reply.header('Retry-After', String(httpError.retryAfterSeconds));
    return reply
      .status(httpError.status)
      .send(errorBody(flavorOf(request.routeOptions.url ?? request.url), httpError));
  });

  app.setNotFoundHandler(async (request, reply) => {
    // Clients log the errors they get: a path that carried a key is echoed without it.
    const path = redactSecrets(request.url.split('?')[0] ?? '');
    const error = new HttpError(
      404,
      path.startsWith(`/k/${REDACTED_KEY}`)
        ? `${request.method} ${path} is not an endpoint of this node: under /k/<key> it serves /, /api/* and /v1/* only, with a key as issued`
        : `${request.method} ${path} is not an endpoint of this node`,
    );
    return reply.status(404).send(errorBody(flavorOf(request.url), error));
  });

  app.get('/health', { config: { access: 'public' } }, async (_request, reply) => {
    const body = await deps.health();
    return reply.status(200).send(body);
  });

  app.get('/metrics', { config: { access: 'local-or-token' } }, async (_request, reply) => {
    reply.header('Content-Type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  // Ollama answers these on its root, and some clients probe them to detect a server.
  app.get('/', { config: { access: 'public' } }, async (_request, reply) =>
    reply.type('text/plain').send('Ollama is running'),
  );
  // CORS preflights for the client APIs; the browser guard answers them before this runs.
  for (const path of ['/', '/api/*', '/v1/*']) {
    app.options(path, { config: { access: 'public' } }, async (_request, reply) => reply.status(204).send());
  }

  registerOllamaApi(app, deps);
  registerOpenAiApi(app, deps);
  for (const register of deps.extraRoutes ?? []) await register(app);
  return app;
}
