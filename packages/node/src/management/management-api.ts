import type { Policy } from '@allerac/router';
import type { FastifyInstance } from 'fastify';
import type { Backend } from '../backend/backend.js';
import type { NodeConfig } from '../config.js';
import {
  JoinBody,
  type NodeInfo,
  type PairingCode,
  type PairingJoined,
  type PeerList,
  PeerParams,
  type PeerRemoved,
  type RouteRanking,
} from '../contract/management.js';
import { RouteQuery } from '../contract/query.js';
import { BadRequestError, HttpError } from '../http/errors.js';
import { validatedBy } from '../http/validate.js';
import type { MeshGateway } from '../inference/mesh-gateway.js';
import type { MeshRuntime } from '../mesh-runtime.js';
import type { Store } from '../store/store.js';
import { SOFTWARE_VERSION } from '../version.js';

/** What the management API reads. */
export interface ManagementDeps {
  config: NodeConfig;
  backend: Backend;
  gateway: MeshGateway;
  store: Store;
  mesh: MeshRuntime;
}

/** This node as GET /allerac/v1/node describes it (and the live `node` event repeats it). */
export async function describeNode(deps: Omit<ManagementDeps, 'gateway'>): Promise<NodeInfo> {
  const card = await deps.mesh.mesh.localCard().catch(() => undefined);
  return {
    id: card?.peerId ?? null,
    name: deps.config.name,
    version: SOFTWARE_VERSION,
    status: 'online',
    backend: deps.backend.health(),
    models: card?.models.map((m) => m.name) ?? [],
    loadedModels: card?.models.filter((m) => m.loaded).map((m) => m.name) ?? [],
    hardware: card?.hardware ?? null,
    load: card?.load ?? null,
    specializations: card?.specializations ?? [],
    addresses: deps.mesh.mesh.addresses(),
    store: {
      kind: deps.store.db.kind,
      ...(await deps.store.conversations.counts()),
      memories: await deps.store.memories.count(),
    },
  };
}

/** /allerac/v1/*: this node, its peers, routing explanations, pairing. Every route needs a token or a session. */
export function registerManagementApi(app: FastifyInstance, deps: ManagementDeps): void {
  app.get('/allerac/v1/node', { config: { access: 'admin' } }, () => describeNode(deps));

  app.get(
    '/allerac/v1/peers',
    { config: { access: 'admin' } },
    async (): Promise<PeerList> => deps.mesh.peers(),
  );

  app.delete<{ Params: PeerParams }>(
    '/allerac/v1/peers/:id',
    { config: { access: 'admin' }, ...validatedBy({ params: PeerParams }) },
    async (request): Promise<PeerRemoved> => {
      const peer = deps.mesh.peers().find((p) => p.id === request.params.id || p.name === request.params.id);
      if (peer === undefined) throw new HttpError(404, `no peer ${request.params.id}`);
      await deps.mesh.removePeer(peer.id);
      return { removed: peer.id, name: peer.name, keyRotated: true };
    },
  );

  app.get(
    '/allerac/v1/pairing/code',
    { config: { access: 'admin' } },
    async (): Promise<PairingCode> => ({ code: await deps.mesh.joinCode() }),
  );

  app.post<{ Body: JoinBody }>(
    '/allerac/v1/pairing/join',
    { config: { access: 'admin' }, ...validatedBy({ body: JoinBody }) },
    async (request): Promise<PairingJoined> => {
      const code = request.body.code.trim();
      if (code === '') throw new BadRequestError('code must be a join code');
      try {
        await deps.mesh.join(code);
      } catch (error) {
        if ((error as Error).name === 'JoinCodeError') throw new BadRequestError((error as Error).message);
        throw error;
      }
      return { joined: true };
    },
  );

  app.get<{ Querystring: RouteQuery }>(
    '/allerac/v1/route',
    { config: { access: 'admin' }, ...validatedBy({ querystring: RouteQuery }) },
    async (request): Promise<RouteRanking> => {
      const { model, policy, node, specialization } = request.query;
      if (model === undefined || model === '')
        throw new BadRequestError('model is required, e.g. ?model=llama3.2');
      let chosen: Policy = { kind: 'auto' };
      if (node !== undefined && node !== '') chosen = { kind: 'pin', node };
      else if (policy === 'local-first') chosen = { kind: 'local-first' };
      else if (policy !== undefined && policy !== 'auto')
        throw new BadRequestError('policy must be auto or local-first');
      const ranked = await deps.gateway.explain(model, {
        policy: chosen,
        ...(specialization !== undefined ? { specialization } : {}),
      });
      return ranked.map((placement, index) => ({
        rank: index + 1,
        id: placement.nodeId,
        name: placement.nodeName,
        model: placement.model,
        eligible: placement.eligible,
        estimateMs: Number.isFinite(placement.estimateMs) ? Math.round(placement.estimateMs) : null,
        reason: placement.reason,
      }));
    },
  );
}
