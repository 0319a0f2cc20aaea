/**
 * Home Assistant's failures, one class each, so a tool can tell the model (and the settings page
 * the owner) exactly what went wrong: not configured, unreachable, too slow, token refused, or a
 * request HA itself refused.
 */
import { UpstreamError } from '../errors.js';

/** Base of every Home Assistant failure: a service the node asked failed it (502 if it reaches HTTP). */
export class HomeAssistantError extends UpstreamError {
  override name = 'HomeAssistantError';
}

/** No Home Assistant URL and token are set on this node. */
export class HomeAssistantNotConfiguredError extends HomeAssistantError {
  override name = 'HomeAssistantNotConfiguredError';
  constructor() {
    super('Home Assistant is not set up on this node: an admin sets its URL and token in Settings', {
      code: 'home_assistant_not_configured',
    });
  }
}

/** Home Assistant could not be reached (refused, reset, DNS). */
export class HomeAssistantUnreachableError extends HomeAssistantError {
  override name = 'HomeAssistantUnreachableError';
  constructor(url: string, options: ErrorOptions = {}) {
    super(`Home Assistant at ${url} could not be reached`, {
      ...options,
      code: 'home_assistant_unreachable',
    });
  }
}

/** Home Assistant did not answer within the time limit. */
export class HomeAssistantTimeoutError extends HomeAssistantError {
  override name = 'HomeAssistantTimeoutError';
  constructor(
    url: string,
    /** The limit that passed, ms. */
    readonly timeoutMs: number,
  ) {
    super(`Home Assistant at ${url} did not answer within ${timeoutMs} ms`, {
      code: 'home_assistant_timeout',
    });
  }
}

/** Home Assistant answered 401: the long-lived token is wrong, expired or revoked. */
export class HomeAssistantTokenRefusedError extends HomeAssistantError {
  override name = 'HomeAssistantTokenRefusedError';
  constructor() {
    super('Home Assistant refused the access token: set a valid long-lived access token in Settings', {
      code: 'home_assistant_token_refused',
    });
  }
}

/** Home Assistant answered the request with an error of its own (unknown entity, bad data). */
export class HomeAssistantRequestError extends HomeAssistantError {
  override name = 'HomeAssistantRequestError';
  constructor(
    /** HA's HTTP status. */
    readonly status: number,
    message: string,
  ) {
    super(message, { code: 'home_assistant_request_refused' });
  }
}
