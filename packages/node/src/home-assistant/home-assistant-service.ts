/**
 * This node's Home Assistant connection: the stored settings, a client built from them for the
 * tools, and the connection test the settings page runs.
 */
import {
  DEFAULT_HA_ACTION_DOMAINS,
  type HomeAssistantSettingsBody,
  type HomeAssistantSettingsView,
  type HomeAssistantTestBody,
  type HomeAssistantTestResult,
} from '../contract/home-assistant.js';
import { InvalidInputError } from '../errors.js';
import { createHomeAssistantClient, type HomeAssistantClient } from './client.js';
import {
  HomeAssistantError,
  HomeAssistantNotConfiguredError,
  HomeAssistantTimeoutError,
  HomeAssistantTokenRefusedError,
  HomeAssistantUnreachableError,
} from './errors.js';
import {
  homeAssistantSettingsPath,
  readHomeAssistantSettings,
  writeHomeAssistantSettings,
} from './settings-file.js';

/** Options of the connection. */
export interface HomeAssistantServiceInit {
  dataDir: string;
  /** Per-request limit, ms (DEFAULT_HA_REQUEST_TIMEOUT_MS). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The connection as the routes and the tools use it. */
export interface HomeAssistantService {
  /** The settings without the token. */
  view(): HomeAssistantSettingsView;
  /** Stores the URL and (if given) the token; InvalidInputError when there is no token to keep. */
  save(body: HomeAssistantSettingsBody): HomeAssistantSettingsView;
  /** Checks a connection: the stored one, or the body's URL and token over the stored ones. */
  test(body?: HomeAssistantTestBody, signal?: AbortSignal): Promise<HomeAssistantTestResult>;
  /** A client for the stored settings; HomeAssistantNotConfiguredError when there are none. */
  client(): Promise<HomeAssistantClient>;
  /** The domains in which assistants may act through this node. */
  actionDomains(): string[];
}

/** Builds the connection over `<data-dir>/home-assistant.json`. */
export function createHomeAssistantService(init: HomeAssistantServiceInit): HomeAssistantService {
  const file = homeAssistantSettingsPath(init.dataDir);
  const clientFor = (url: string, token: string) =>
    createHomeAssistantClient({
      url,
      token,
      ...(init.timeoutMs !== undefined ? { timeoutMs: init.timeoutMs } : {}),
      ...(init.fetch !== undefined ? { fetch: init.fetch } : {}),
    });
  const view = (): HomeAssistantSettingsView => {
    const stored = readHomeAssistantSettings(file);
    return {
      url: stored?.url ?? null,
      tokenSet: stored !== undefined && stored.token !== '',
      actionDomains: stored?.actionDomains ?? [...DEFAULT_HA_ACTION_DOMAINS],
    };
  };
  return {
    view,
    save(body) {
      const stored = readHomeAssistantSettings(file);
      const token = body.token ?? stored?.token;
      if (token === undefined) {
        throw new InvalidInputError('a token is needed: none is stored yet', { param: 'token' });
      }
      const actionDomains = [
        ...new Set(body.actionDomains ?? stored?.actionDomains ?? DEFAULT_HA_ACTION_DOMAINS),
      ];
      writeHomeAssistantSettings(file, { url: body.url.replace(/\/+$/, ''), token, actionDomains });
      return view();
    },
    async test(body = {}, signal) {
      const stored = readHomeAssistantSettings(file);
      const url = body.url ?? stored?.url;
      const token = body.token ?? stored?.token;
      if (url === undefined || token === undefined) {
        return {
          ok: false,
          problem: 'not_configured',
          message: new HomeAssistantNotConfiguredError().message,
        };
      }
      try {
        const config = await clientFor(url, token).config(signal);
        return { ok: true, version: config.version, locationName: config.locationName };
      } catch (error) {
        if (!(error instanceof HomeAssistantError)) throw error;
        const problem =
          error instanceof HomeAssistantTokenRefusedError
            ? 'token_refused'
            : error instanceof HomeAssistantTimeoutError
              ? 'timeout'
              : error instanceof HomeAssistantUnreachableError
                ? 'unreachable'
                : 'refused';
        return { ok: false, problem, message: error.message };
      }
    },
    actionDomains: () => readHomeAssistantSettings(file)?.actionDomains ?? [...DEFAULT_HA_ACTION_DOMAINS],
    async client() {
      const stored = readHomeAssistantSettings(file);
      if (stored === undefined) throw new HomeAssistantNotConfiguredError();
      return clientFor(stored.url, stored.token);
    },
  };
}
