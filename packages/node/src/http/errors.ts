import {
  InvalidSpaceInputError,
  MalformedSyncMessageError,
  SpaceExistsError,
  UnknownSpaceError,
} from '@allerac/memory-sync';
import { MeshError, MeshUnavailableError } from '@allerac/mesh';
import { BackendProtocolError, BackendResponseError, BackendUnavailableError } from '../backend/errors.js';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  RateLimitedError,
  TooLargeError,
  UnauthenticatedError,
  UnavailableError,
  UpstreamError,
} from '../errors.js';
import { RemoteInferenceError } from '../inference/errors.js';
import { InvalidCursorError } from '../store/memory-repository.js';

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

/** A domain error's status, with the field at fault for OpenAI's `param`. */
class DomainHttpError extends HttpError {
  override name = 'DomainHttpError';
  constructor(
    status: number,
    error: DomainError | MeshError,
    type: string,
    retryAfterSeconds?: number,
    /** The field at fault, rendered as OpenAI's `param`. */
    readonly param?: string,
  ) {
    super(status, error.message, type, error.code, retryAfterSeconds);
  }
}

/** The status and OpenAI type of each kind of domain failure; the domain never names a status. */
function fromDomainError(error: DomainError): HttpError {
  if (error instanceof InvalidInputError)
    return new DomainHttpError(400, error, 'invalid_request_error', undefined, error.param);
  if (error instanceof UnauthenticatedError) return new DomainHttpError(401, error, 'authentication_error');
  if (error instanceof ForbiddenError) return new DomainHttpError(403, error, 'permission_error');
  if (error instanceof NotFoundError) return new DomainHttpError(404, error, 'invalid_request_error');
  if (error instanceof ConflictError) return new DomainHttpError(409, error, 'invalid_request_error');
  if (error instanceof TooLargeError) return new DomainHttpError(413, error, 'invalid_request_error');
  if (error instanceof RateLimitedError)
    return new DomainHttpError(429, error, 'rate_limit_error', error.retryAfterSeconds);
  if (error instanceof UnavailableError)
    return new DomainHttpError(503, error, 'service_unavailable', error.retryAfterSeconds);
  if (error instanceof UpstreamError) return new DomainHttpError(502, error, 'api_error');
  // A DomainError of no known kind is a bug of ours, and says so.
  return new HttpError(500, `internal error: ${error.message}`, 'server_error');
}

/** The status and OpenAI type of each kind of mesh failure. */
function fromMeshError(error: MeshError): HttpError {
  if (error.kind === 'invalid-input')
    return new DomainHttpError(400, error, 'invalid_request_error', undefined, error.param);
  if (error.kind === 'conflict') return new DomainHttpError(409, error, 'invalid_request_error');
  if (error instanceof MeshUnavailableError)
    return new DomainHttpError(503, error, 'service_unavailable', error.retryAfterSeconds);
  if (error.kind === 'unavailable') return new DomainHttpError(503, error, 'service_unavailable');
  return new DomainHttpError(502, error, 'api_error');
}

/** Maps any error to the status and message the client should see. 500 is left for real bugs. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof DomainError) return fromDomainError(error);
  // Shared spaces' errors come from @allerac/memory-sync, which knows nothing of the node.
  if (error instanceof UnknownSpaceError)
    return new HttpError(404, error.message, 'invalid_request_error', 'unknown_space');
  if (error instanceof SpaceExistsError)
    return new HttpError(409, error.message, 'invalid_request_error', 'space_exists');
  if (
    error instanceof InvalidSpaceInputError ||
    error instanceof InvalidCursorError ||
    error instanceof MalformedSyncMessageError
  )
    return new BadRequestError(error.message);
  // The mesh's errors come from @allerac/mesh, which knows nothing of the node: each declares its kind.
  if (error instanceof MeshError) return fromMeshError(error);
  // A peer's Ollama answers through the peer as this node's own Ollama would answer directly.
  if (error instanceof RemoteInferenceError) {
    if (error.status !== undefined) return fromOllamaStatus(error.status, error.message);
    if (error.code === 'bad-request') return new BadRequestError(error.message);
    if (error.code === 'model-not-found') return fromOllamaStatus(404, error.message);
    if (error.code === 'busy') return new HttpError(503, error.message, 'service_unavailable', undefined, 2);
    return new HttpError(502, error.message, 'api_error');
  }
  if (error instanceof BackendUnavailableError)
    return new HttpError(503, error.message, 'service_unavailable', undefined, 5);
  if (error instanceof BackendProtocolError) return new HttpError(502, error.message, 'bad_gateway');
  if (error instanceof BackendResponseError) return fromOllamaStatus(error.status, error.message);
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    return new HttpError(fastifyError.statusCode, describeFrameworkError(fastifyError));
  }
  return new HttpError(500, `internal error: ${(error as Error)?.message ?? String(error)}`, 'server_error');
}

/** Ollama's status and message, as this node passes them on: its 500 is a bad gateway here. */
function fromOllamaStatus(ollamaStatus: number, message: string): HttpError {
  const status = ollamaStatus >= 400 && ollamaStatus < 600 ? ollamaStatus : 502;
  const code = status === 404 ? 'model_not_found' : undefined;
  return new HttpError(
    status === 500 ? 502 : status,
    message,
    undefined,
    code,
    status === 503 ? 2 : undefined,
  );
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
