/**
 * GET /allerac/v1/peers/sleeping and POST /allerac/v1/peers/:id/wake. Both are open to every
 * signed-in account, member or admin: a member's chat may wake a machine anyway, and a wake only
 * sends one rate-limited packet on the LAN to a machine the home already paired.
 */
import type { FastifyInstance } from 'fastify';
import { PeerParams } from '../contract/management.js';
import type { PeerWoken, SleepingPeerList } from '../contract/wake.js';
import { SleepingPeersQuery } from '../contract/wake.js';
import { validatedBy } from '../http/validate.js';
import type { SleepingPeers } from './sleeping-peers.js';

/** Registers the sleeping-peer routes. */
export function registerWakeApi(app: FastifyInstance, sleeping: SleepingPeers): void {
  app.get(
    '/allerac/v1/peers/sleeping',
    { config: { access: 'signed-in' }, ...validatedBy({ querystring: SleepingPeersQuery }) },
    async (): Promise<SleepingPeerList> =>
      sleeping.list().map(({ lastSeen, wokenAt, ...peer }) => ({
        ...peer,
        lastSeen: new Date(lastSeen).toISOString(),
        ...(wokenAt !== undefined ? { wokenAt: new Date(wokenAt).toISOString() } : {}),
      })),
  );

  app.post<{ Params: PeerParams }>(
    '/allerac/v1/peers/:id/wake',
    { config: { access: 'signed-in' }, ...validatedBy({ params: PeerParams }) },
    async (request): Promise<PeerWoken> => {
      const { id, name, sent } = await sleeping.wake(request.params.id);
      return { id, name, macs: sent.macs, broadcasts: sent.broadcasts, at: new Date(sent.at).toISOString() };
    },
  );
}
