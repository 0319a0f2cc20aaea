/** The backend could not be reached at all (connection refused, DNS, timeout). Maps to 503. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
  constructor(
    readonly url: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(
      `Ollama is not reachable at ${url} (${detail}); check that it is running and that --ollama-url is right`,
      options,
    );
  }
}

/** The backend answered with an error of its own; its status and message pass through. */
export class BackendResponseError extends Error {
  override name = 'BackendResponseError';
  constructor(
    message: string,
    readonly status: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The request could not even be sent: the client library refused its input (a field of the
 * wrong type, a value JSON cannot carry). It is the caller's 400, as Ollama would answer it, and
 * says nothing about the backend's health. A BackendResponseError with status 400, so that every
 * layer already treats it as the client's fault (not retried, not a failover, not "unreachable").
 */
export class BackendRequestError extends BackendResponseError {
  override name = 'BackendRequestError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, 400, options);
  }
}

/** The backend broke the protocol: garbage, or a stream that ended before `done`. Maps to 502. */
export class BackendProtocolError extends Error {
  override name = 'BackendProtocolError';
}
