/**
 * The inviter's side of the pairing exchange: a TCP listener that is open only while an
 * invitation is live, answers at most MAX_PAIRING_CONNECTIONS joiners at once, and gives each
 * PAIRING_EXCHANGE_TIMEOUT_MS.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { type InvitationBook, MAX_WRONG_PROOFS } from './pairing-invitations.js';
import {
  createEphemeral,
  fromB64,
  offer,
  PAIRING_EXCHANGE_TIMEOUT_MS,
  PairingProtocolError,
  type PairingRefusal,
  proofMatches,
  sealWelcome,
  sessionKeys,
  type Welcome,
} from './pairing-protocol.js';
import { PairingSocket } from './pairing-socket.js';

/** Joiners served at once: pairing is a person at a keyboard, so more is an attack. */
export const MAX_PAIRING_CONNECTIONS = 4;

/** Where the listener binds. */
export interface PairingServerInit {
  host: string;
  /** Port to try first; 0 (or a taken port) means any free one. */
  port: number;
  /** Time a joiner has for the whole exchange; PAIRING_EXCHANGE_TIMEOUT_MS by default. */
  exchangeTimeoutMs?: number;
}

/** What the listener needs. */
export interface PairingServerComponents {
  book: InvitationBook;
  /** What a joiner that proved the code receives, read at that moment (the key may have rotated). */
  welcome: () => Promise<Welcome>;
  /** Called after a proof was judged, whatever the outcome: the book may have no live invitation left. */
  judged?: () => void;
  logger: Logger;
}

/** The pairing listener; `open` while invitations are live, `close` when none are. */
export class PairingServer {
  private server: Server | undefined;
  private opening: Promise<number> | undefined;
  private active = 0;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly init: PairingServerInit,
    private readonly components: PairingServerComponents,
  ) {}

  /** Listens (if not yet) and returns the bound port. */
  open(): Promise<number> {
    this.opening ??= this.listen().catch((error: unknown) => {
      this.opening = undefined;
      throw error;
    });
    return this.opening;
  }

  /** Stops listening; exchanges under way finish within their deadline unless `abort`. */
  async close(abort = false): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.opening = undefined;
    if (abort) for (const socket of this.sockets) socket.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async listen(): Promise<number> {
    const bind = (port: number) =>
      new Promise<Server>((resolve, reject) => {
        const server = createServer((socket) => void this.serve(socket));
        server.once('error', reject);
        server.listen({ host: this.init.host, port }, () => {
          server.off('error', reject);
          resolve(server);
        });
      });
    let server: Server;
    try {
      server = await bind(this.init.port);
    } catch (error) {
      if (this.init.port === 0 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      server = await bind(0);
    }
    server.on('error', (error) =>
      this.components.logger.warn({ event: 'pairing-listener-error', err: error }, 'pairing listener error'),
    );
    this.server = server;
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : this.init.port;
    this.components.logger.info(
      { event: 'pairing-listening', port },
      'listening for machines joining with an invitation',
    );
    return port;
  }

  private async serve(socket: Socket): Promise<void> {
    const io = new PairingSocket(
      socket,
      Date.now() + (this.init.exchangeTimeoutMs ?? PAIRING_EXCHANGE_TIMEOUT_MS),
    );
    const remote = socket.remoteAddress;
    if (this.active >= MAX_PAIRING_CONNECTIONS) {
      await io.end({ type: 'pair-refused', reason: 'busy' });
      return;
    }
    this.active += 1;
    this.sockets.add(socket);
    try {
      await this.exchange(io, remote);
    } catch (error) {
      const bad = error instanceof PairingProtocolError;
      this.components.logger.info(
        { event: 'pairing-refused', remote, reason: bad ? 'bad-frame' : 'error', err: String(error) },
        'pairing exchange failed',
      );
      await io.end(bad ? { type: 'pair-refused', reason: 'bad-frame' } : undefined).catch(() => undefined);
    } finally {
      this.active -= 1;
      this.sockets.delete(socket);
      io.destroy();
    }
  }

  private async exchange(io: PairingSocket, remote: string | undefined): Promise<void> {
    const { book, logger } = this.components;
    const hello = await io.read();
    if (hello.type !== 'pair-hello') throw new PairingProtocolError('expected pair-hello');
    if (book.open().length === 0) {
      await io.end({ type: 'pair-refused', reason: 'no-invitation' });
      return;
    }
    const own = createEphemeral();
    const helloKey = fromB64(hello.key, 32, 'key');
    const keys = sessionKeys(
      own,
      helloKey,
      { nonce: fromB64(hello.nonce, 16, 'nonce'), key: helloKey },
      { nonce: own.nonce, key: own.publicKey },
    );
    io.write({ type: 'pair-challenge', ...offer(own) });
    const proof = await io.read();
    if (proof.type !== 'pair-proof') throw new PairingProtocolError('expected pair-proof');
    const mac = fromB64(proof.mac, 32, 'mac');
    const outcome = book.redeem((secret) => {
      const derived = keys.forSecret(secret);
      return proofMatches(mac, derived.proof) ? derived.encKey : undefined;
    });
    this.components.judged?.();
    if (outcome.kind === 'invitation') {
      const welcome = await this.components.welcome();
      await io.end(sealWelcome(outcome.encKey, keys.transcript, welcome));
      logger.info(
        { event: 'pairing-welcomed', remote, invitation: outcome.invitation.id },
        'a machine joined with an invitation',
      );
      return;
    }
    let reason: PairingRefusal = outcome.kind === 'spent' ? outcome.reason : 'wrong-code';
    if (outcome.kind === 'wrong' && outcome.burnt > 0) reason = 'burnt';
    logger.warn(
      { event: 'pairing-refused', remote, reason, maxWrongProofs: MAX_WRONG_PROOFS },
      'a join attempt with a wrong or spent code was refused',
    );
    await io.end({ type: 'pair-refused', reason });
  }
}
