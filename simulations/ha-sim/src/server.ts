/**
 * The HTTP server: HA's REST API (homeassistant/components/api, history) with its statuses and
 * messages, control endpoints under /_sim, and the faults.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HistoryQueryError, queryHistory } from './history.js';
import { DEFAULT_HOME } from './home.js';
import {
  callService,
  describeServices,
  hasService,
  ServiceDataError,
  ServiceNotFoundError,
  supportsResponse,
} from './services.js';
import { InvalidEntityFormatError, InvalidStateError, pythonStr, StateMachine } from './state-machine.js';
import { renderTemplate, TemplateError } from './template.js';
import type { HaFaultPlan, HaRecordedRequest, HaSim, HaSimOptions, JsonObject, JsonValue } from './types.js';

/** The token accepted when the options name none. */
export const DEFAULT_TOKEN = 'ha-sim-long-lived-token';

/** The version `/api/config` reports unless the options say otherwise. */
export const DEFAULT_HA_VERSION = '2025.11.1';

/** HA's default port. */
export const DEFAULT_HA_PORT = 8123;

/** Requests kept at most, oldest dropped first. */
export const MAX_RECORDED_REQUESTS = 1_000;

/** Largest body read; HA's own limit is 16 MiB, far more than any REST call needs. */
const MAX_BODY_BYTES = 1024 * 1024;

/** The user the simulated long-lived tokens belong to (an admin, as tokens usually are). */
const USER_ID = '7b6d1c1b2a2f4e4f9d3c8a1b0e5f6a7b';

/** Integrations reported as loaded. */
const COMPONENTS = [
  'api',
  'climate',
  'cover',
  'history',
  'homeassistant',
  'http',
  'light',
  'lock',
  'media_player',
  'recorder',
  'switch',
];

class BodyTooLargeError extends Error {
  override name = 'BodyTooLargeError';
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** `HomeAssistantView.json_message`. */
function sendMessage(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { message });
}

function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** aiohttp's default bodies for the HTTP errors HA raises without a message, e.g. `401: Unauthorized`. */
const AIOHTTP_REASON: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Request Entity Too Large',
};

function sendHttpError(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  sendText(res, status, `${status}: ${AIOHTTP_REASON[status]}`, headers);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Python's `json.loads`, which is what HA's views call: undefined for text that is not JSON. */
function parseJson(text: string): { ok: true; value: JsonValue } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) as JsonValue };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

interface Sim {
  states: StateMachine;
  tokens: Set<string>;
  version: string;
  locationName: string;
  now: () => number;
  faults: HaFaultPlan;
  recording: boolean;
  log: HaRecordedRequest[];
}

/** The routes and the methods each takes, for 404 versus 405. */
const ROUTES: Array<{ pattern: RegExp; methods: string[] }> = [
  { pattern: /^\/api\/$/, methods: ['GET'] },
  { pattern: /^\/api\/config$/, methods: ['GET'] },
  { pattern: /^\/api\/components$/, methods: ['GET'] },
  { pattern: /^\/api\/states$/, methods: ['GET'] },
  { pattern: /^\/api\/states\/([^/]+)$/, methods: ['GET', 'POST', 'DELETE'] },
  { pattern: /^\/api\/services$/, methods: ['GET'] },
  { pattern: /^\/api\/services\/([^/]+)\/([^/]+)$/, methods: ['POST'] },
  { pattern: /^\/api\/history\/period(?:\/([^/]+))?$/, methods: ['GET'] },
  { pattern: /^\/api\/template$/, methods: ['POST'] },
];

function authorized(sim: Sim, req: IncomingMessage): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer (.+)$/.exec(header);
  return match !== null && sim.tokens.has(match[1]!);
}

async function handleApi(
  sim: Sim,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: string,
): Promise<void> {
  const method = req.method ?? 'GET';
  const path = url.pathname;
  const route = ROUTES.find((r) => r.pattern.test(path));
  if (route === undefined) return sendHttpError(res, 404);
  if (!route.methods.includes(method)) return sendHttpError(res, 405, { Allow: route.methods.join(',') });
  // HA's views check the token before anything else; unknown paths are 404 either way.
  if (!authorized(sim, req)) return sendHttpError(res, 401);
  const raw = route.pattern.exec(path)!.slice(1);
  const params = raw.map((p) => (p === undefined ? undefined : safeDecode(p)));
  if (params.some((p, i) => p === undefined && raw[i] !== undefined)) return sendHttpError(res, 400);
  const { states } = sim;

  if (path === '/api/') return sendMessage(res, 200, 'API running.');
  if (path === '/api/config') return sendJson(res, 200, config(sim));
  if (path === '/api/components') return sendJson(res, 200, COMPONENTS);
  if (path === '/api/states') return sendJson(res, 200, states.all());
  if (path === '/api/services') return sendJson(res, 200, describeServices());
  if (path === '/api/template') return handleTemplate(sim, res, body);
  if (path.startsWith('/api/history/period')) {
    try {
      return sendJson(res, 200, queryHistory(states, params[0], url.searchParams, sim.now()));
    } catch (error) {
      if (error instanceof HistoryQueryError) return sendMessage(res, 400, error.message);
      throw error;
    }
  }
  if (path.startsWith('/api/services/')) return handleService(sim, res, params[0]!, params[1]!, url, body);
  return handleEntityState(sim, res, method, params[0]!, body);
}

function config(sim: Sim): JsonObject {
  return {
    latitude: 38.7223,
    longitude: -9.1393,
    elevation: 0,
    unit_system: {
      length: 'km',
      accumulated_precipitation: 'mm',
      area: 'm²',
      mass: 'g',
      pressure: 'Pa',
      temperature: '°C',
      volume: 'L',
      wind_speed: 'm/s',
    },
    location_name: sim.locationName,
    time_zone: 'UTC',
    components: COMPONENTS,
    config_dir: '/config',
    allowlist_external_dirs: ['/config/www', '/media'],
    allowlist_external_urls: [],
    version: sim.version,
    config_source: 'storage',
    recovery_mode: false,
    state: 'RUNNING',
    external_url: null,
    internal_url: null,
    currency: 'EUR',
    country: 'PT',
    language: 'en',
    safe_mode: false,
    debug: false,
    radius: 100,
  };
}

async function handleEntityState(
  sim: Sim,
  res: ServerResponse,
  method: string,
  entityId: string,
  body: string,
): Promise<void> {
  const { states } = sim;
  if (method === 'GET') {
    const state = states.get(entityId);
    return state === undefined ? sendMessage(res, 404, 'Entity not found.') : sendJson(res, 200, state);
  }
  if (method === 'DELETE') {
    return states.remove(entityId)
      ? sendMessage(res, 200, 'Entity removed.')
      : sendMessage(res, 404, 'Entity not found.');
  }
  const parsed = parseJson(body);
  if (!parsed.ok) return sendMessage(res, 400, 'Invalid JSON specified.');
  // HA would fail with a 500 on a JSON array or string (it calls data.get); a 4xx is kinder.
  if (!isObject(parsed.value)) return sendMessage(res, 400, 'State data should be a JSON object.');
  const data = parsed.value;
  if (data.state === undefined || data.state === null) return sendMessage(res, 400, 'No state specified.');
  const attributes = data.attributes ?? null;
  if (attributes !== null && !isObject(attributes))
    return sendMessage(res, 400, 'Attributes should be a JSON object.');
  const isNew = states.get(entityId) === undefined;
  try {
    states.set(
      entityId,
      pythonStr(data.state),
      attributes ?? {},
      states.newContext(USER_ID),
      data.force_update === true,
    );
  } catch (error) {
    if (error instanceof InvalidEntityFormatError)
      return sendMessage(res, 400, 'Invalid entity ID specified.');
    if (error instanceof InvalidStateError) return sendMessage(res, 400, 'Invalid state specified.');
    throw error;
  }
  const id = entityId.toLowerCase();
  sendJson(res, isNew ? 201 : 200, states.get(id), { Location: `/api/states/${id}` });
}

async function handleService(
  sim: Sim,
  res: ServerResponse,
  domain: string,
  service: string,
  url: URL,
  body: string,
): Promise<void> {
  const parsed = body === '' ? { ok: true as const, value: null } : parseJson(body);
  if (!parsed.ok) return sendMessage(res, 400, 'Data should be valid JSON.');
  if (!hasService(domain, service)) return sendHttpError(res, 400);
  const wantsResponse = url.searchParams.has('return_response');
  const supports = supportsResponse(domain, service);
  if (wantsResponse && supports === 'none') {
    return sendMessage(res, 400, 'Service does not support responses. Remove return_response from request.');
  }
  if (!wantsResponse && supports === 'only') {
    return sendMessage(
      res,
      400,
      'Service call requires responses but caller did not ask for responses. Add ?return_response to query parameters.',
    );
  }
  try {
    const changed = callService(sim.states, domain, service, parsed.value, sim.states.newContext(USER_ID));
    return sendJson(res, 200, wantsResponse ? { changed_states: changed, service_response: null } : changed);
  } catch (error) {
    // HA raises HTTPBadRequest without a message for vol.Invalid and ServiceNotFound.
    if (error instanceof ServiceDataError || error instanceof ServiceNotFoundError)
      return sendHttpError(res, 400);
    throw error;
  }
}

async function handleTemplate(sim: Sim, res: ServerResponse, body: string): Promise<void> {
  const parsed = parseJson(body);
  if (!parsed.ok) return sendMessage(res, 400, `Error rendering template: ${parsed.error}`);
  const data = parsed.value;
  // HA answers 500 for a body without a string "template" (a KeyError it does not catch).
  if (!isObject(data) || typeof data.template !== 'string') {
    return sendMessage(res, 400, "Error rendering template: 'template'");
  }
  const variables = isObject(data.variables) ? data.variables : {};
  try {
    return sendText(res, 200, renderTemplate(data.template, sim.states, variables));
  } catch (error) {
    if (error instanceof TemplateError)
      return sendMessage(res, 400, `Error rendering template: ${error.message}`);
    throw error;
  }
}

async function handleControl(
  sim: Sim,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  body: string,
): Promise<void> {
  if (path === '/_sim/requests' && req.method === 'GET') return sendJson(res, 200, sim.log);
  if (path === '/_sim/requests' && req.method === 'DELETE') {
    sim.log.length = 0;
    return sendJson(res, 200, {});
  }
  if (path === '/_sim/faults' && req.method === 'GET') return sendJson(res, 200, sim.faults);
  if (path === '/_sim/faults' && req.method === 'POST') {
    const parsed = parseJson(body);
    if (!parsed.ok || !isObject(parsed.value)) return sendMessage(res, 400, 'faults must be a JSON object');
    const plan = parsed.value;
    if (plan.slowMs !== undefined && (typeof plan.slowMs !== 'number' || plan.slowMs < 0)) {
      return sendMessage(res, 400, 'slowMs must be a number of milliseconds');
    }
    if (plan.down !== undefined && typeof plan.down !== 'boolean')
      return sendMessage(res, 400, 'down must be a boolean');
    sim.faults = plan as HaFaultPlan;
    return sendJson(res, 200, sim.faults);
  }
  sendHttpError(res, 404);
}

/** Starts a simulator and resolves once it listens. */
export async function startHaSim(options: HaSimOptions = {}): Promise<HaSim> {
  const now = options.now ?? Date.now;
  const home = options.home ?? DEFAULT_HOME;
  const tokens = options.tokens ?? [DEFAULT_TOKEN];
  const sim: Sim = {
    states: new StateMachine(home, now),
    tokens: new Set(tokens),
    version: options.version ?? DEFAULT_HA_VERSION,
    locationName: home.location_name,
    now,
    faults: { ...options.faults },
    recording: options.recordRequests === true,
    log: [],
  };
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://ha-sim');
    const control = url.pathname.startsWith('/_sim/');
    if (!control && sim.faults.down === true) {
      req.socket.destroy();
      return;
    }
    readBody(req)
      .then(async (body) => {
        if (control) return handleControl(sim, req, res, url.pathname, body);
        if (sim.recording) {
          sim.log.push({
            method: req.method ?? 'GET',
            path: url.pathname,
            query: url.search.replace(/^\?/, ''),
            body,
            authorized: authorized(sim, req),
            receivedAt: now(),
          });
          if (sim.log.length > MAX_RECORDED_REQUESTS)
            sim.log.splice(0, sim.log.length - MAX_RECORDED_REQUESTS);
        }
        const slow = sim.faults.slowMs ?? 0;
        if (slow > 0) await new Promise((resolve) => setTimeout(resolve, slow));
        return handleApi(sim, req, res, url, body);
      })
      .catch((error: unknown) => {
        if (res.headersSent) return res.destroy();
        if (error instanceof BodyTooLargeError) return sendHttpError(res, 413);
        sendText(res, 500, '500 Internal Server Error\n\nServer got itself in trouble');
      });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    token: tokens[0] ?? DEFAULT_TOKEN,
    state: (entityId) => sim.states.get(entityId),
    requests: () => sim.log.map((entry) => ({ ...entry })),
    clearRequests: () => {
      sim.log.length = 0;
    },
    setFaults: (plan) => {
      sim.faults = { ...plan };
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
