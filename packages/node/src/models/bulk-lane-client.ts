/**
 * The receiver's side of the bulk lane: a TLS 1.3 PSK connection to the holder, on the host of
 * the mesh connection to it, carrying exactly the ticket's bytes.
 */
import { Transform } from 'node:stream';
import { connect, type TLSSocket } from 'node:tls';
import { MODELS_LANE_CIPHER, type ModelsLaneTicket, TruncatedFrameError } from '@allerac/protocol';

/** How long the lane may take to connect and shake hands before the copy uses the mesh stream. */
export const LANE_CONNECT_TIMEOUT_MS = 5_000;

/** The lane could not be opened (refused, timed out, handshake failed). */
export class LaneUnavailableError extends Error {
  override name = 'LaneUnavailableError';
}

/**
 * The IP host of the first direct TCP connection among a peer's remote multiaddrs; undefined
 * when there is none (a relayed or non-TCP connection: the copy then stays on the mesh stream).
 */
export function laneHostOf(addresses: readonly string[]): string | undefined {
  for (const address of addresses) {
    if (address.includes('/p2p-circuit')) continue;
    const match = /^\/(ip4|ip6)\/([^/]+)\/tcp\/\d+/.exec(address);
    if (match !== null) return match[2];
  }
  return undefined;
}

/** Connects to the lane of `ticket` on `host`; resolves once the handshake is done. */
export function openLane(
  host: string,
  ticket: ModelsLaneTicket,
  signal?: AbortSignal,
  timeoutMs = LANE_CONNECT_TIMEOUT_MS,
): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port: ticket.port,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: MODELS_LANE_CIPHER,
      pskCallback: () => ({ psk: Buffer.from(ticket.key, 'base64'), identity: ticket.identity }),
      // No certificates: the PSK authenticates both ends.
      checkServerIdentity: () => undefined,
    });
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(new LaneUnavailableError(`bulk lane to ${host}:${ticket.port}: ${error.message}`));
    };
    const onError = (error: Error) => fail(error);
    const onAbort = () => fail(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    const timer = setTimeout(() => fail(new Error(`no handshake within ${timeoutMs} ms`)), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
    };
    socket.once('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('secureConnect', () => {
      cleanup();
      // Later errors reach the reader through its iterator; this keeps one from going unhandled.
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

/**
 * Passes exactly `length` bytes, counting each chunk with `onBytes`; fails with
 * TruncatedFrameError when the source ends short or runs long. Chunks pass as they are: gathering
 * TLS's 16 KiB records into larger buffers cost more in copies and GC than it saved in writes.
 */
export function exactly(length: number, onBytes?: (n: number) => void): Transform {
  let left = length;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (chunk.length > left) {
        done(new TruncatedFrameError(`the range ran past its ${length} bytes`));
        return;
      }
      left -= chunk.length;
      onBytes?.(chunk.length);
      done(null, chunk);
    },
    flush(done) {
      done(left > 0 ? new TruncatedFrameError(`the range ended ${left} bytes short`) : null);
    },
  });
}
