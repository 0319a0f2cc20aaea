import type { Policy } from '@allerac/router';
import type { FastifyInstance } from 'fastify';
import type { Backend } from '../backend/backend.js';
import type { NodeConfig } from '../config.js';
import {
  JoinBody,
  type NodeInfo,
  type PairingInvitation,
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
  /** Whatever explains the ranking: the mesh gateway, or the waking gateway around it. */
  gateway: Pick<MeshGateway, 'explain'>;
  /** Called once a peer is removed, so what this node remembers of it goes too. */
  peerRemoved?: (peerId: string) => Promise<void>;
  store: Store;
  mesh: MeshRuntime;
  /** The agent's current name and specialisations (node-identity.ts). */
  identity: { readonly name: string; readonly specializations: string[] };
}

/** This node as GET /allerac/v1/node describes it (and the live `node` event repeats it). */
export async function describeNode(deps: Omit<ManagementDeps, 'gateway'>): Promise<NodeInfo> {
  const card = await deps.mesh.mesh.localCard().catch(() => undefined);
  return {
    id: card?.peerId ?? null,
    name: deps.identity.name,
    version: SOFTWARE_VERSION,
    status: 'online',
    backend: deps.backend.health(),
    models: card?.models.map((m) => m.name) ?? [],
    loadedModels: card?.models.filter((m) => m.loaded).map((m) => m.name) ?? [],
    hardware: card?.hardware ?? null,
    load: card?.load ?? null,
    specializations: deps.identity.specializations,
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
      await deps.peerRemoved?.(peer.id);
      return { removed: peer.id, name: peer.name, keyRotated: true };
    },
  );

  // The permanent key never leaves as a code: a machine joins through a short-lived invitation.
  app.post(
    '/allerac/v1/pairing/invitations',
    { config: { access: 'admin' } },
    async (_request, reply): Promise<PairingInvitation> => {
      const invitation = await deps.mesh.invite();
      reply.code(201);
      return {
        id: invitation.id,
        code: invitation.code,
        expiresAt: new Date(invitation.expiresAt).toISOString(),
        ttlSeconds: Math.max(0, Math.round((invitation.expiresAt - Date.now()) / 1000)),
      };
    },
  );

  // Errors are domain errors: a bad or refused code is a 400, an inviter that does not answer a 502.
  app.post<{ Body: JoinBody }>(
    '/allerac/v1/pairing/join',
    { config: { access: 'admin' }, ...validatedBy({ body: JoinBody }) },
    async (request): Promise<PairingJoined> => {
      const welcome = await deps.mesh.join(request.body.code);
      return { joined: true, inviter: { id: welcome.peerId, name: welcome.name } };
    },
  );

  app.get<{ Querystring: RouteQuery }>(
    '/allerac/v1/route',
    { config: { access: 'admin' }, ...validatedBy({ querystring: RouteQuery }) },
    async (request): Promise<RouteRanking> => {
      const { model, policy, node, specialization, promptTokens, maxTokens, numCtx } = request.query;
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
        ...(promptTokens !== undefined && promptTokens !== '' ? { promptTokens: Number(promptTokens) } : {}),
        ...(maxTokens !== undefined && maxTokens !== '' && Number(maxTokens) > 0
          ? { maxTokens: Number(maxTokens) }
          : {}),
        ...(numCtx !== undefined && numCtx !== '' && Number(numCtx) > 0 ? { numCtx: Number(numCtx) } : {}),
      });
      return ranked.map((placement, index) => ({
        rank: index + 1,
        id: placement.nodeId,
        name: placement.nodeName,
        model: placement.model,
        eligible: placement.eligible,
        estimateMs: Number.isFinite(placement.estimateMs) ? Math.round(placement.estimateMs) : null,
        reason: placement.reason,
        ...(placement.terms !== undefined ? { terms: placement.terms } : {}),
      }));
    },
  );
}
