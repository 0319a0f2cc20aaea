/**
 * A client for Home Assistant's REST API (developers.home-assistant.io/docs/api/rest): states,
 * services, history, and areas through `/api/template`, since REST states carry no area. Every
 * request has a time limit, so a slow or dead HA is a typed error, never a hung tool.
 */
import { DEFAULT_HA_REQUEST_TIMEOUT_MS, MAX_HA_RESPONSE_BYTES } from './constants.js';
import {
  HomeAssistantError,
  HomeAssistantRequestError,
  HomeAssistantTimeoutError,
  HomeAssistantTokenRefusedError,
  HomeAssistantUnreachableError,
} from './errors.js';

/** A state object as `/api/states` returns it. */
export interface HaStateObject {
  entity_id: string;
  state: string;
  attributes: Record<string, unknown>;
  last_changed: string;
  last_updated: string;
}

/** Where Home Assistant is and how to reach it. */
export interface HomeAssistantClientInit {
  /** Base URL, e.g. `http://homeassistant.local:8123`. */
  url: string;
  /** A long-lived access token. */
  token: string;
  /** Per-request limit, ms (DEFAULT_HA_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The calls the tools and the settings check make. */
export interface HomeAssistantClient {
  /** `GET /api/config`: proves the URL and the token, and names the HA. */
  config(signal?: AbortSignal): Promise<{ version: string; locationName: string }>;
  /** Every state object. */
  states(signal?: AbortSignal): Promise<HaStateObject[]>;
  /** One entity's state; HomeAssistantRequestError (404) when HA has no such entity. */
  state(entityId: string, signal?: AbortSignal): Promise<HaStateObject>;
  /** Calls a service; resolves to the states it changed. */
  callService(
    domain: string,
    service: string,
    data: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<HaStateObject[]>;
  /** `/api/history/period/<start>` for some entities: one list of states per entity. */
  history(entityIds: readonly string[], start: Date, signal?: AbortSignal): Promise<HaStateObject[][]>;
  /** The entity ids of an area (by id or name), through the `area_entities` template function. */
  areaEntities(area: string, signal?: AbortSignal): Promise<string[]>;
  /** The area ids of the home. */
  areas(signal?: AbortSignal): Promise<string[]>;
}

/** Builds a client; nothing is sent until a call. */
export function createHomeAssistantClient(init: HomeAssistantClientInit): HomeAssistantClient {
  const base = init.url.replace(/\/+$/, '');
  const timeoutMs = init.timeoutMs ?? DEFAULT_HA_REQUEST_TIMEOUT_MS;
  const doFetch = init.fetch ?? fetch;

  async function request(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const timer = AbortSignal.timeout(timeoutMs);
    const combined = signal === undefined ? timer : AbortSignal.any([signal, timer]);
    let response: Response;
    let text: string;
    try {
      response = await doFetch(`${base}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${init.token}`,
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: combined,
        redirect: 'error',
      });
      text = await readLimited(response);
    } catch (error) {
      if (error instanceof HomeAssistantError) throw error;
      if (timer.aborted) throw new HomeAssistantTimeoutError(base, timeoutMs);
      if (signal?.aborted) throw signal.reason;
      throw new HomeAssistantUnreachableError(base, { cause: error });
    }
    if (response.status === 401 || response.status === 403) throw new HomeAssistantTokenRefusedError();
    if (!response.ok) throw new HomeAssistantRequestError(response.status, haMessage(response.status, text));
    return text;
  }

  async function json<T>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    const text = await request(method, path, body, signal);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new HomeAssistantRequestError(
        502,
        `Home Assistant answered ${path} with something that is not JSON`,
      );
    }
  }

  async function template(source: string, variables: Record<string, unknown>, signal?: AbortSignal) {
    const text = await request('POST', '/api/template', { template: source, variables }, signal);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new HomeAssistantRequestError(
        502,
        'Home Assistant rendered the area template as something that is not JSON',
      );
    }
  }

  return {
    async config(signal) {
      const config = await json<{ version?: unknown; location_name?: unknown }>(
        'GET',
        '/api/config',
        undefined,
        signal,
      );
      return {
        version: typeof config.version === 'string' ? config.version : 'unknown',
        locationName: typeof config.location_name === 'string' ? config.location_name : '',
      };
    },
    states: (signal) => json<HaStateObject[]>('GET', '/api/states', undefined, signal),
    state: (entityId, signal) =>
      json<HaStateObject>('GET', `/api/states/${encodeURIComponent(entityId)}`, undefined, signal),
    callService: (domain, service, data, signal) =>
      json<HaStateObject[]>(
        'POST',
        `/api/services/${encodeURIComponent(domain)}/${encodeURIComponent(service)}`,
        data,
        signal,
      ),
    history: (entityIds, start, signal) =>
      json<HaStateObject[][]>(
        'GET',
        `/api/history/period/${encodeURIComponent(start.toISOString())}?filter_entity_id=${encodeURIComponent(entityIds.join(','))}`,
        undefined,
        signal,
      ),
    async areaEntities(area, signal) {
      // The name goes in as a variable, never spliced into the template: no template injection.
      const value = await template('{{ area_entities(area) | tojson }}', { area }, signal);
      return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    },
    async areas(signal) {
      const value = await template('{{ areas() | tojson }}', {}, signal);
      return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
    },
  };
}

async function readLimited(response: Response): Promise<string> {
  const tooLarge = () =>
    new HomeAssistantRequestError(
      502,
      `Home Assistant answered with more than ${MAX_HA_RESPONSE_BYTES} bytes`,
    );
  if (Number(response.headers.get('content-length') ?? 0) > MAX_HA_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const text = await response.text();
  if (text.length > MAX_HA_RESPONSE_BYTES) throw tooLarge();
  return text;
}

/** HA's own message: `{"message": …}` from its views, or aiohttp's bare `400: Bad Request`. */
function haMessage(status: number, text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') return `Home Assistant refused the request: ${parsed.message}`;
  } catch {
    // not JSON: aiohttp's text body
  }
  const trimmed = text.trim().slice(0, 200);
  return `Home Assistant refused the request (${status})${trimmed !== '' ? `: ${trimmed}` : ''}`;
}
