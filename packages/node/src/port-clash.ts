/**
 * A port that is taken at start, told as the flag to change: whoever runs `allerac start` needs
 * the option and a port that is free, not the listener's stack trace.
 */
import { createServer } from 'node:net';
import { ConflictError } from './errors.js';

/** Which listener could not bind. */
export type PortKind = 'http' | 'p2p';

const OPTION: Record<PortKind, { flag: string; env: string }> = {
  http: { flag: '--http-port', env: 'ALLERAC_HTTP_PORT' },
  p2p: { flag: '--p2p-port', env: 'ALLERAC_P2P_PORT' },
};

/** How far past the taken port to look for a free one to suggest. */
const SUGGESTION_RANGE = 20;

/** The node's HTTP or mesh port is in use by another process. */
export class PortInUseError extends ConflictError {
  override name = 'PortInUseError';
  constructor(
    readonly kind: PortKind,
    readonly port: number,
    /** A port found free just now, when one was. */
    readonly suggestion: number | undefined,
    options: ErrorOptions = {},
  ) {
    const { flag, env } = OPTION[kind];
    super(
      suggestion === undefined
        ? `port ${port} is in use: start with another ${flag} (or ${env}), or 0 for any free port`
        : `port ${port} is in use: start with ${flag} ${suggestion} (or ${env})`,
      { code: 'port_in_use', ...options },
    );
  }
}

/** Which of the node's ports a start failure is a clash on, if it is one. */
export function portClashOf(
  error: unknown,
  ports: { httpPort: number; p2pPort: number },
): { kind: PortKind; port: number } | undefined {
  if (!(error instanceof Error)) return undefined;
  const errno = error as NodeJS.ErrnoException & { port?: number };
  // The HTTP server's own listen error (Fastify passes Node's through).
  if (errno.code === 'EADDRINUSE' && (errno.port === undefined || errno.port === ports.httpPort))
    return { kind: 'http', port: ports.httpPort };
  // libp2p gathers its listeners' failures into one error, their messages in its text.
  if (error.name === 'UnsupportedListenAddressesError' && error.message.includes('EADDRINUSE'))
    return { kind: 'p2p', port: ports.p2pPort };
  return undefined;
}

/** The first port after `port` that `host` can listen on now, if any within a short range. */
export async function nextFreePort(host: string, port: number): Promise<number | undefined> {
  for (let candidate = port + 1; candidate <= Math.min(port + SUGGESTION_RANGE, 65_535); candidate += 1)
    if (await canListen(host, candidate)) return candidate;
  return undefined;
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The PortInUseError for a start failure that is a port clash; undefined for any other failure. */
export async function explainPortClash(
  error: unknown,
  config: { httpPort: number; httpHost: string; p2pPort: number; p2pHost: string },
): Promise<PortInUseError | undefined> {
  const clash = portClashOf(error, config);
  if (clash === undefined) return undefined;
  const host = clash.kind === 'http' ? config.httpHost : config.p2pHost;
  return new PortInUseError(clash.kind, clash.port, await nextFreePort(host, clash.port), { cause: error });
}
