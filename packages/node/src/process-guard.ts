import type { Logger } from 'pino';

const FD_EXHAUSTION = new Set(['EMFILE', 'ENFILE']);

/**
 * Keeps the node up when file descriptors run out. An EMFILE can surface from any accept, open
 * or socket deep in a library, as an uncaught error; it is a passing condition (connections
 * close, descriptors return), so the node logs it and carries on. Anything else still ends the
 * process, as an unknown fault should.
 */
export function installProcessGuard(logger: Logger): () => void {
  let lastLogged = 0;
  const onError = (error: unknown) => {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code !== undefined && FD_EXHAUSTION.has(code)) {
      const now = Date.now();
      // At most one line a second: a flood of failed accepts must not flood the log too.
      if (now - lastLogged > 1_000) {
        lastLogged = now;
        logger.error({ code }, 'out of file descriptors; raise the limit (deploy/ sets LimitNOFILE)');
      }
      return;
    }
    logger.fatal({ err: error }, 'uncaught error; exiting');
    process.exit(1);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return () => {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  };
}
