/** A pull or a copy onto one machine of the home through /api/pull, read as Ollama's NDJSON progress. */
import { ApiError, writeHeaders } from '../api.js';

/** One of Ollama's progress objects. */
export interface PullStep {
  status: string;
  total?: number;
  completed?: number;
}

/** Where the model comes from: Ollama's registry on the internet, or a machine of the home. */
export type PullSource = 'internet' | 'peer';

/**
 * Pulls `model` onto `node` (undefined: this node), calling `onStep` per progress object; throws
 * ApiError with Ollama's message when the pull fails, before or after its first line.
 */
export async function pullModel(
  model: string,
  node: string | undefined,
  source: PullSource,
  onStep: (step: PullStep) => void,
  signal?: AbortSignal,
): Promise<void> {
  const init: RequestInit = {
    method: 'POST',
    credentials: 'same-origin',
    headers: writeHeaders(),
    body: JSON.stringify({
      model,
      stream: true,
      allerac: { source, ...(node !== undefined ? { node } : {}) },
    }),
  };
  if (signal !== undefined) init.signal = signal;
  const response = await fetch('/api/pull', init);
  if (!response.ok || response.body === null) {
    const text = await response.text();
    let message = text || response.statusText;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? message;
    } catch {
      // not JSON: the text as it is
    }
    throw new ApiError(response.status, message);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      if (line === '') continue;
      const step = JSON.parse(line) as PullStep & { error?: string };
      if (step.error !== undefined) throw new ApiError(502, step.error);
      onStep(step);
    }
  }
}
