/**
 * Home Assistant for the home-automation agent: a REST client with a time limit per request,
 * the `ha.*` tools, the connection stored in a 0600 file, and its settings routes.
 *
 * @example
 * ```ts
 * const ha = createHomeAssistantService({ dataDir });
 * const registry = new ToolRegistry(createHomeAssistantTools({ client: () => ha.client() }));
 * ```
 */
export {
  createHomeAssistantClient,
  type HaStateObject,
  type HomeAssistantClient,
  type HomeAssistantClientInit,
} from './client.js';
export { DEFAULT_HA_REQUEST_TIMEOUT_MS, HA_SETTINGS_FILE } from './constants.js';
export {
  HomeAssistantError,
  HomeAssistantNotConfiguredError,
  HomeAssistantRequestError,
  HomeAssistantTimeoutError,
  HomeAssistantTokenRefusedError,
  HomeAssistantUnreachableError,
} from './errors.js';
export {
  createHomeAssistantService,
  type HomeAssistantService,
  type HomeAssistantServiceInit,
} from './home-assistant-service.js';
export { homeAssistantSettingsPath } from './settings-file.js';
export { createHomeAssistantTools, type HomeAssistantToolsComponents } from './tools.js';
