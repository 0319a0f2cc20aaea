import { BackendProtocolError, BackendResponseError, BackendUnavailableError } from '../backend/errors.js';

/** The API families the node speaks; each has its own error shape. */
export type ApiFlavor = 'ollama' | 'openai' | 'allerac';

/** An error with an HTTP status, raised by the node's own request handling. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    /** OpenAI's error `type`; derived from the status when absent. */
    readonly type?: string,
    /** OpenAI's error `code`, e.g. model_not_found. */
    readonly code?: string,
    /** Seconds after which a retry may succeed (sets Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** Thrown when the request body is not acceptable. */
export class BadRequestError extends HttpError {
  override name = 'BadRequestError';
  constructor(message: string, code?: string) {
    super(400, message, 'invalid_request_error', code);
  }
}

/** Maps any error to the status and message the client should see. 500 is left for real bugs. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof BackendUnavailableError)
    return new HttpError(503, error.message, 'service_unavailable', undefined, 5);
  if (error instanceof BackendProtocolError) return new HttpError(502, error.message, 'bad_gateway');
  if (error instanceof BackendResponseError) {
    const status = error.status >= 400 && error.status < 600 ? error.status : 502;
    const code = status === 404 ? 'model_not_found' : undefined;
    return new HttpError(
      status === 500 ? 502 : status,
      error.message,
      undefined,
      code,
      status === 503 ? 2 : undefined,
    );
  }
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    return new HttpError(fastifyError.statusCode, describeFrameworkError(fastifyError));
  }
  return new HttpError(500, `internal error: ${(error as Error)?.message ?? String(error)}`, 'server_error');
}

function describeFrameworkError(error: { code?: string; message?: string }): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'request body is too large (the limit is documented in the README)';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'request body is empty; send a JSON object';
    default:
      return error.message ?? 'bad request';
  }
}

const OPENAI_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  413: 'invalid_request_error',
  429: 'rate_limit_error',
  502: 'api_error',
  503: 'api_error',
};

/** The JSON body of an error in the given API's own shape. */
export function errorBody(flavor: ApiFlavor, error: HttpError): Record<string, unknown> {
  if (flavor === 'openai') {
    return {
      error: {
        message: error.message,
        type: error.type ?? OPENAI_TYPES[error.status] ?? 'api_error',
        // A validation error names the field at fault, as OpenAI's `param` does.
        param: 'param' in error && typeof error.param === 'string' && error.param !== '' ? error.param : null,
        code: error.code ?? null,
      },
    };
  }
  return { error: error.message };
}

/** Which API a URL belongs to. */
export function flavorOf(url: string): ApiFlavor {
  if (url.startsWith('/v1/')) return 'openai';
  if (url.startsWith('/allerac/')) return 'allerac';
  return 'ollama';
}
