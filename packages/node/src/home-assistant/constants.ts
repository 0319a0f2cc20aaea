/** The longest a single request to Home Assistant may take before it is a tool error, ms. */
export const DEFAULT_HA_REQUEST_TIMEOUT_MS = 5_000;

/** The largest answer read from Home Assistant: a big home's `/api/states` is well under this. */
export const MAX_HA_RESPONSE_BYTES = 4 * 1024 * 1024;

/** The settings file inside the data dir: the URL and the long-lived token, mode 0600. */
export const HA_SETTINGS_FILE = 'home-assistant.json';
