/**
 * Invitations of one node: opens them (and the pairing listener while any is live), and redeems a
 * code made by another node. Keys and dialling are the mesh runtime's business.
 */
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { MeshConflictError, MeshInputError } from './errors.js';
import { formatInvitationCode, parseInvitationCode } from './join-code.js';
import { redeemInvitation } from './pairing-client.js';
import { InvitationBook } from './pairing-invitations.js';
import type { Welcome } from './pairing-protocol.js';
import { PairingServer } from './pairing-server.js';

/** An invitation as the API and `allerac pair` show it. */
export interface OpenedInvitation {
  id: string;
  code: string;
  /** ms since the epoch. */
  expiresAt: number;
}

/** Where the node listens and what it tells joiners. */
export interface PairingServiceInit {
  /** The mesh's listen host: the pairing port binds the same. */
  listenHost: string;
  /** The mesh port; the pairing port is the next one when free (predictable for a firewall), else any. */
  p2pPort: number;
  /** Time a joiner has for the whole exchange (PAIRING_EXCHANGE_TIMEOUT_MS by default). */
  exchangeTimeoutMs?: number;
}

/** What the service needs. */
export interface PairingServiceComponents {
  welcome: () => Promise<Welcome>;
  logger: Logger;
  /** The clock of invitations' expiry. */
  now?: () => number;
}

/** The code is one of this node's own invitations. */
export class OwnInvitationError extends MeshInputError {
  override name = 'OwnInvitationError';
  constructor() {
    super('this code is an invitation from this node itself; enter it on the machine that should join', {
      param: 'code',
    });
  }
}

/** No IPv4 address to put in a code. */
export class NoPairingAddressError extends MeshConflictError {
  override name = 'NoPairingAddressError';
}

const VIRTUAL = /^(docker|br-|veth|virbr|cni|flannel|podman|lxc|lxd|vmnet|vboxnet)/;
const PRIVATE = /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|198\.1[89]\.)/;

/** The IPv4 address a joiner on the LAN reaches this node at, given the mesh's listen host. */
export function advertisedHost(listenHost: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(listenHost) && listenHost !== '0.0.0.0') return listenHost;
  if (listenHost !== '0.0.0.0' && listenHost !== '::' && listenHost !== '')
    throw new NoPairingAddressError(
      `invitations need an IPv4 address, and the mesh listens on ${listenHost}; set ALLERAC_P2P_HOST to an IPv4 address`,
    );
  const candidates = Object.entries(networkInterfaces()).flatMap(([name, list]) =>
    (list ?? [])
      .filter((a) => a.family === 'IPv4' && !a.internal && !VIRTUAL.test(name))
      .map((a) => a.address),
  );
  return candidates.find((a) => PRIVATE.test(a)) ?? candidates[0] ?? '127.0.0.1';
}

/** This node's invitations and its redemption of others'. */
export class PairingService {
  private readonly book: InvitationBook;
  private readonly server: PairingServer;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly init: PairingServiceInit,
    private readonly components: PairingServiceComponents,
  ) {
    this.book = new InvitationBook(components.now);
    this.server = new PairingServer(
      {
        host: init.listenHost,
        port: init.p2pPort > 0 && init.p2pPort < 65_535 ? init.p2pPort + 1 : 0,
        ...(init.exchangeTimeoutMs !== undefined ? { exchangeTimeoutMs: init.exchangeTimeoutMs } : {}),
      },
      {
        book: this.book,
        logger: components.logger,
        welcome: components.welcome,
        // Used or burnt: the port closes at once when nothing else is live.
        judged: () => void this.closeIfIdle(),
      },
    );
  }

  /** Opens an invitation and makes sure the pairing port listens. */
  async invite(): Promise<OpenedInvitation> {
    const host = advertisedHost(this.init.listenHost);
    const invitation = this.book.create();
    let port: number;
    try {
      port = await this.server.open();
    } catch (error) {
      this.book.revoke(invitation.id);
      throw error;
    }
    this.armCloseTimer();
    return {
      id: invitation.id,
      code: formatInvitationCode({ host, port, secret: invitation.secret }),
      expiresAt: invitation.expiresAt,
    };
  }

  /** Runs the exchange for another node's code. */
  async redeem(code: string): Promise<Welcome> {
    const parsed = parseInvitationCode(code);
    if (this.book.knows(parsed.secret)) throw new OwnInvitationError();
    return redeemInvitation(parsed);
  }

  /** Withdraws every invitation and closes the port. */
  async stop(): Promise<void> {
    clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    this.book.clear();
    await this.server.close(true);
  }

  private armCloseTimer(): void {
    clearTimeout(this.closeTimer);
    const next = this.book.open()[0];
    if (next === undefined) return;
    const now = (this.components.now ?? Date.now)();
    this.closeTimer = setTimeout(() => void this.closeIfIdle(), Math.max(0, next.expiresAt - now) + 50);
    this.closeTimer.unref();
  }

  private async closeIfIdle(): Promise<void> {
    if (this.book.open().length > 0) {
      this.armCloseTimer();
      return;
    }
    clearTimeout(this.closeTimer);
    this.closeTimer = undefined;
    await this.server.close();
    this.components.logger.info({ event: 'pairing-closed' }, 'no invitation is open: pairing port closed');
  }
}
