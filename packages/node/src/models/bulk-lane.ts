/**
 * The holder's bulk lane (#16): blob ranges over a plain TLS 1.3 connection beside the mesh, at
 * the speed of the machine's AES/ChaCha rather than of the mesh's WebAssembly cipher, noise and
 * yamux. It is keyed by the mesh: a ticket (port, PSK identity, fresh 32-byte key) is handed out
 * only in a `models-reply`, on a stream that only paired peers reach. A ticket names one file
 * range, is good for one handshake, and expires; an unknown identity, a spent or expired ticket
 * and a wrong key all fail the handshake, before a byte of the file is read.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { open } from 'node:fs/promises';
import type { AddressInfo, Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { MODELS_LANE_CIPHER, type ModelsLaneTicket } from '@allerac/protocol';
import type { Logger } from 'pino';

/** How long a ticket may wait for its connection: the receiver connects at once. */
export const LANE_TICKET_TTL_MS = 30_000;
/** Tickets outstanding plus lanes open: Ollama's 16 parallel parts, with room for a retry each. */
export const MAX_LANES = 32;
/** Read size of the file: large reads keep the TLS records full and the syscalls few. */
export const LANE_READ_BYTES = 1024 * 1024;
/**
 * TCP connections the lane holds at once, handshaking or carrying a range: any LAN host can open
 * one, so the bound keeps hosts that never shake hands from piling up (each is dropped after
 * HANDSHAKE_TIMEOUT_MS anyway); a copy that finds the lane full falls back to the mesh stream.
 */
export const MAX_LANE_CONNECTIONS = 64;
/** A handshake that has not finished by then is dropped. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** A lane whose receiver reads nothing for this long is dropped (it pushes back, it does not stall). */
const LANE_IDLE_MS = 60_000;

/** A file range a ticket names. */
export interface LaneFile {
  path: string;
  /** First byte. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

interface Ticket {
  key: Buffer;
  file: LaneFile;
  expiresAt: number;
}

/** Options of a lane. */
export interface BulkLaneOptions {
  /** The address the mesh's transport listens on (`--p2p-host`). */
  host: string;
  logger: Logger;
  ttlMs?: number;
  maxLanes?: number;
  /** The clock tickets expire on. */
  now?: () => number;
}

interface LaneEvents {
  /** A ticket was handed out. */
  ticket: [ModelsLaneTicket];
  /** A lane finished: the bytes it sent, or the error that cut it. */
  served: [{ bytes: number; error?: Error }];
}

/** One TLS server per node, started on the first ticket. */
export class BulkLaneServer extends EventEmitter<LaneEvents> {
  private readonly tickets = new Map<string, Ticket>();
  /** The ticket a handshake's pskCallback accepted, for its secure connection. */
  private readonly accepted = new WeakMap<TLSSocket, Ticket>();
  private server: Promise<Server> | undefined;
  private closed = false;
  private lanes = 0;
  /** Open connections, handshaking or carrying a range: cut on close (server.close would wait). */
  private readonly sockets = new Set<Socket>();
  /** Bytes of files sent and lanes served, for tests and benches. */
  readonly stats = { bytes: 0, lanes: 0, issued: 0 };

  constructor(private readonly options: BulkLaneOptions) {
    super();
  }

  /**
   * A ticket for `file`, or undefined when the lane cannot take one now (closed, at its bound, or
   * unable to listen): the caller then sends the bytes over the mesh stream.
   */
  async issue(file: LaneFile): Promise<ModelsLaneTicket | undefined> {
    if (this.closed) return undefined;
    if (this.full()) return undefined;
    let server: Server;
    try {
      server = await this.listening();
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'the bulk lane cannot listen');
      return undefined;
    }
    // Checked again: other requests may have taken the room while this one waited to listen.
    if (this.closed || this.full()) return undefined;
    const identity = randomBytes(16).toString('hex');
    const key = randomBytes(32);
    const now = this.options.now ?? Date.now;
    this.tickets.set(identity, { key, file, expiresAt: now() + (this.options.ttlMs ?? LANE_TICKET_TTL_MS) });
    const ticket: ModelsLaneTicket = {
      port: (server.address() as AddressInfo).port,
      identity,
      key: key.toString('base64'),
      length: file.end - file.start + 1,
    };
    this.stats.issued++;
    this.emit('ticket', ticket);
    return ticket;
  }

  /** Stops listening and cuts every lane; no ticket is issued after. */
  async close(): Promise<void> {
    this.closed = true;
    this.tickets.clear();
    const server = await this.server?.catch(() => undefined);
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Whether live tickets and open lanes are at the bound (expired tickets are dropped first). */
  private full(): boolean {
    const now = (this.options.now ?? Date.now)();
    for (const [identity, ticket] of this.tickets) if (ticket.expiresAt <= now) this.tickets.delete(identity);
    return this.tickets.size + this.lanes >= (this.options.maxLanes ?? MAX_LANES);
  }

  private listening(): Promise<Server> {
    this.server ??= this.listen();
    this.server.catch(() => {
      this.server = undefined;
    });
    return this.server;
  }

  private async listen(): Promise<Server> {
    const server = createServer({
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      ciphers: MODELS_LANE_CIPHER,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      pskCallback: (socket, identity) => this.accept(socket, identity),
    });
    server.maxConnections = MAX_LANE_CONNECTIONS;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('secureConnection', (socket) => this.serve(socket));
    server.on('tlsClientError', (error, socket) => {
      this.options.logger.debug(
        { err: error.message, from: socket.remoteAddress },
        'bulk lane handshake refused',
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => {
      this.options.logger.warn({ err: error.message }, 'bulk lane server error');
    });
    return server;
  }

  /** The key of a live ticket, spent by this handshake; null fails the handshake. */
  private accept(socket: TLSSocket, identity: string): Buffer | null {
    const ticket = this.tickets.get(identity);
    if (ticket === undefined) return null;
    this.tickets.delete(identity);
    if (ticket.expiresAt <= (this.options.now ?? Date.now)()) return null;
    this.accepted.set(socket, ticket);
    return ticket.key;
  }

  private serve(socket: TLSSocket): void {
    const ticket = this.accepted.get(socket);
    if (ticket === undefined) {
      socket.destroy();
      return;
    }
    this.lanes++;
    // A write's callback reports the error that cut the lane; this keeps it from going unhandled.
    socket.on('error', () => undefined);
    socket.setTimeout(LANE_IDLE_MS, () => socket.destroy(new Error('bulk lane idle')));
    // The receiver sends nothing; reading keeps its end from filling our buffers.
    socket.resume();
    const progress = { bytes: 0 };
    sendRange(socket, ticket.file, progress).then(
      () => this.finish(progress.bytes),
      (error: Error) => {
        socket.destroy();
        this.finish(progress.bytes, error);
      },
    );
  }

  private finish(bytes: number, error?: Error): void {
    this.lanes--;
    this.stats.bytes += bytes;
    this.stats.lanes++;
    if (error !== undefined) this.options.logger.debug({ err: error.message, bytes }, 'bulk lane cut');
    this.emit('served', error === undefined ? { bytes } : { bytes, error });
  }
}

/** Writes `bytes`; resolves once the socket has taken them, which is its back-pressure. */
function write(socket: TLSSocket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Sends a file range through two reused buffers: one is read while the other is written, and a
 * buffer is read into again only once the socket has taken its last write. A stream of fresh
 * 1 MiB buffers would cost the holder a full GC every few dozen of them (external memory), on a
 * heap that the rest of the node makes large.
 */
async function sendRange(socket: TLSSocket, file: LaneFile, progress: { bytes: number }): Promise<void> {
  const handle = await open(file.path, 'r');
  try {
    const buffers = [Buffer.allocUnsafeSlow(LANE_READ_BYTES), Buffer.allocUnsafeSlow(LANE_READ_BYTES)];
    let writing: Promise<void> = Promise.resolve();
    let position = file.start;
    for (let turn = 0; position <= file.end; turn++) {
      const buffer = buffers[turn % 2]!;
      const { bytesRead } = await handle.read(
        buffer,
        0,
        Math.min(buffer.length, file.end - position + 1),
        position,
      );
      if (bytesRead === 0) throw new Error('the blob ended before its range');
      position += bytesRead;
      progress.bytes += bytesRead;
      await writing;
      writing = write(socket, buffer.subarray(0, bytesRead));
      // Awaited on the next turn; until then a cut lane's rejection must not count as unhandled.
      writing.catch(() => undefined);
    }
    await writing;
    await new Promise<void>((resolve) => socket.end(resolve));
  } finally {
    await handle.close();
  }
}
