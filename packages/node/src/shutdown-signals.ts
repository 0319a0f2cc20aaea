/**
 * Ctrl-C and `kill` for `allerac start`: the first signal stops the node gracefully, a second
 * one (a person pressing Ctrl-C again) exits at once, and a shutdown that overruns its grace
 * period by far exits anyway, so the terminal is never left hanging.
 */
import type { Logger } from 'pino';

/** Copies of one signal that arrive this close together are one press (npm/npx forwards Ctrl-C to its child, which the terminal has signalled too). */
export const REPEATED_SIGNAL_MS = 500;

/** How long past the node's own grace period a shutdown may run before the process exits anyway. */
export const SHUTDOWN_OVERRUN_MS = 10_000;

/** What the handlers stop. */
export interface StoppableNode {
  readonly logger: Logger;
  close(): Promise<void>;
}

/** Where the signals come from and how the process ends; the process itself unless a test injects its own. */
export interface ShutdownSignalOptions {
  /** The node's grace period for in-flight requests (SHUTDOWN_GRACE_MS). */
  graceMs: number;
  exit?: (code: number) => void;
  now?: () => number;
  /** Emits `SIGINT` and `SIGTERM`. */
  signals?: NodeJS.EventEmitter;
}

/** Installs SIGINT/SIGTERM handlers. Returns the uninstaller. */
export function installShutdownSignals(node: StoppableNode, options: ShutdownSignalOptions): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const now = options.now ?? Date.now;
  const signals = options.signals ?? process;
  let firstAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstAt !== undefined) {
      if (now() - firstAt < REPEATED_SIGNAL_MS) return;
      node.logger.warn({ signal }, 'second signal: exiting now');
      exit(130);
      return;
    }
    firstAt = now();
    node.logger.info({ signal }, 'signal received; stopping (press Ctrl-C again to exit at once)');
    const overrun = setTimeout(() => {
      node.logger.error({ signal }, 'shutdown did not finish in time; exiting');
      exit(1);
    }, options.graceMs + SHUTDOWN_OVERRUN_MS);
    // The timer must not keep an otherwise finished process alive.
    overrun.unref();
    node.close().then(
      () => exit(0),
      (error: unknown) => {
        node.logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  // A closed stdout (the reader of `| tee` ended by the same Ctrl-C) must not turn into an
  // uncaught EPIPE that ends the process before the store is closed.
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  };
  signals.on('SIGINT', onInt);
  signals.on('SIGTERM', onTerm);
  process.stdout.on('error', onStdoutError);
  return () => {
    signals.off('SIGINT', onInt);
    signals.off('SIGTERM', onTerm);
    process.stdout.off('error', onStdoutError);
  };
}
