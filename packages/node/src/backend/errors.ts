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
  ) {
    super(message);
  }
}

/** The backend broke the protocol: garbage, or a stream that ended before `done`. Maps to 502. */
export class BackendProtocolError extends Error {
  override name = 'BackendProtocolError';
}
