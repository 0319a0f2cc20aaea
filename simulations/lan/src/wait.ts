import { LanTimeoutError } from './errors.js';

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns a value other than undefined; bounded by `timeoutMs`. Errors
 * from `check` count as "not yet" (a host may be unreachable on purpose) and the last one is
 * reported on timeout.
 */
export async function waitUntil<T>(
  check: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; what: string; describe?: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (let attempt = 0; attempt < 100_000; attempt++) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(options.intervalMs ?? 250);
  }
  const detail = options.describe?.() ?? (lastError instanceof Error ? lastError.message : '');
  throw new LanTimeoutError(
    `timed out after ${options.timeoutMs} ms waiting for ${options.what}${detail ? `: ${detail}` : ''}`,
  );
}
