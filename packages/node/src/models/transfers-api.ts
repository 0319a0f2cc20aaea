/** GET /allerac/v1/models/transfers: this node's model copies, for the model manager's progress bars. */
import type { FastifyInstance } from 'fastify';
import { type ModelTransfers, ModelTransfersQuery } from '../contract/models-transfers.js';
import { validatedBy } from '../http/validate.js';
import type { TransferTable } from './transfers.js';

/** Registers the transfers route; admins only (loopback counts as one), as the model management it reports on. */
export function registerTransfersApi(app: FastifyInstance, deps: { transfers: TransferTable }): void {
  app.get(
    '/allerac/v1/models/transfers',
    { config: { access: 'local-or-admin' }, ...validatedBy({ querystring: ModelTransfersQuery }) },
    async (): Promise<ModelTransfers> => ({ transfers: deps.transfers.list() }),
  );
}
