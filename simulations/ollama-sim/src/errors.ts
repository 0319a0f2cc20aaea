/** Errors the simulator answers with Ollama's `{"error": "..."}` body. */

/** An error that becomes an HTTP response with Ollama's error shape. */
export class OllamaApiError extends Error {
  override name = 'OllamaApiError';
  /** HTTP status to answer with. */
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Ollama's exact text when its request queue is full (note the two spaces). */
export const SERVER_BUSY = 'server busy, please try again.  maximum pending requests exceeded';

/** Ollama's 404 when a model is not installed (handleScheduleError in server/routes.go). */
export function modelNotFound(name: string): OllamaApiError {
  return new OllamaApiError(404, `model ${JSON.stringify(name)} not found, try pulling it first`);
}
