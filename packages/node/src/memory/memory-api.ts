/**
 * /allerac/v1/memories and /allerac/v1/spaces: the memory API of the interface contract. Every
 * route needs a token or a session; a member sees shared memories and its own private ones, and
 * changes or shares only its own (docs/security.md has the matrix).
 */
import { type SpaceInfo, type SpaceOffer, validatePolicy, validateSpaceName } from '@allerac/memory-sync';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteGenericInterface } from 'fastify';
import {
  CreateSpaceBody,
  type InvitationDeclined,
  type MemoryHit as MemoryHitView,
  MemoryListQuery,
  type MemoryPage,
  MemoryPatchBody,
  MemorySearchBody,
  type MemorySettings,
  MemorySettingsPatch,
  type MemoryView,
  NewMemoryBody,
  type SearchResults,
  ShareBody,
  type SpaceInvitation,
  type SpaceInvitationList,
  type SpaceLeft,
  type SpaceList,
  SpaceParams,
  type SpaceView,
} from '../contract/memory.js';
import { IdParams } from '../contract/query.js';
import { BadRequestError, toHttpError } from '../http/errors.js';
import { validatedBy } from '../http/validate.js';
import type { MemoryHit, MemoryRecord } from '../store/memory-repository.js';
import { authorNamer } from './author-names.js';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './constants.js';
import { accessFor, type MemoryAccess, type MemoryService, memberKeyOf } from './memory-service.js';

/** The owner key of a request's member principal (see memberKeyOf). */
export const memberKey = (request: FastifyRequest): string | undefined => memberKeyOf(request.principal);

/** The view a request takes of the memories. */
export const accessOf = (request: FastifyRequest): MemoryAccess => accessFor(request.principal);

/** An author id → the name to show (author-names.ts); by default the id itself. */
type AuthorName = (authorId: string) => string;
const rawId: AuthorName = (id) => id;

/** A memory as the API shows it. */
export function memoryView(memory: MemoryRecord, authorName: AuthorName = rawId): MemoryView {
  return {
    id: memory.id,
    text: memory.text,
    tags: memory.tags,
    source: memory.source,
    space: memory.space,
    author: authorName(memory.authorNode),
    authorId: memory.authorNode,
    createdAt: memory.createdAt.toISOString(),
    updatedAt: memory.updatedAt.toISOString(),
  };
}

/** A search hit as the API shows it. */
export function hitView(hit: MemoryHit, authorName: AuthorName = rawId): MemoryHitView {
  return {
    id: hit.id,
    text: hit.text,
    score: Math.round(hit.score * 10_000) / 10_000,
    space: hit.space,
    author: authorName(hit.authorNode),
    authorId: hit.authorNode,
    tags: hit.tags,
    createdAt: hit.createdAt.toISOString(),
  };
}

type Handler<R extends RouteGenericInterface> = (
  request: FastifyRequest<R>,
  reply: FastifyReply,
) => Promise<unknown>;
const guarded =
  <R extends RouteGenericInterface = RouteGenericInterface>(handler: Handler<R>): Handler<R> =>
  async (request, reply) => {
    try {
      return await handler(request, reply);
    } catch (error) {
      throw toHttpError(error);
    }
  };

/** An optional query or body text; empty means absent. */
const given = (value: string | null | undefined): string | undefined =>
  value === undefined || value === null || value === '' ? undefined : value;

const optionalDate = (value: string | null | undefined, field: string): Date | undefined => {
  const text = given(value);
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new BadRequestError(`${field} must be an ISO 8601 time`);
  return date;
};

const tagList = (value: string | string[] | null | undefined): string[] | undefined =>
  value === undefined || value === null ? undefined : typeof value === 'string' ? [value] : value;

/** `space=private` means private memories only (null); absent or empty means any. */
const spaceFilter = (space: string | null | undefined): string | null | undefined => {
  const name = given(space);
  return name === undefined ? undefined : name === 'private' ? null : name;
};

/** What the memory routes need besides the memory service. */
export interface MemoryApiOptions {
  /** A peer's display name, for invitations and authors; undefined when its card is unknown. */
  peerName?: (peerId: string) => string | undefined;
  /** This node's live name, shown as the author of its own memories; default: the author id. */
  selfName?: () => string;
}

/** Registers the memory and space routes. */
export function registerMemoryApi(
  app: FastifyInstance,
  memory: MemoryService,
  options: MemoryApiOptions = {},
): void {
  const base = '/allerac/v1';
  const authorName = authorNamer({
    isOwn: (id) => memory.isOwnAuthor(id),
    selfName: options.selfName ?? (() => memory.nodeId),
    peerName: (id) => options.peerName?.(id),
  });
  const view = (record: MemoryRecord) => memoryView(record, authorName);
  const invitationView = (offer: SpaceOffer): SpaceInvitation => ({
    name: offer.name,
    peers: offer.peers.map((id) => ({ id, name: options.peerName?.(id) ?? id })),
    memories: offer.memories ?? null,
  });

  app.post(
    `${base}/memories`,
    { config: { access: 'signed-in' }, ...validatedBy({ body: NewMemoryBody }) },
    guarded<{ Body: NewMemoryBody }>(async (request, reply) => {
      const { body } = request;
      const created = await memory.add({
        text: body.text,
        tags: tagList(body.tags),
        space: given(body.space) ?? null,
        owner: memberKey(request) ?? null,
      });
      return reply.status(201).send(view(created));
    }),
  );

  app.get(
    `${base}/memories`,
    { config: { access: 'signed-in' }, ...validatedBy({ querystring: MemoryListQuery }) },
    guarded<{ Querystring: MemoryListQuery }>(async (request): Promise<MemoryPage> => {
      const { query } = request;
      const limitText = given(query.limit);
      const limit = limitText === undefined ? DEFAULT_LIST_LIMIT : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
        throw new BadRequestError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
      }
      const page = await memory.list(
        {
          space: spaceFilter(query.space),
          tags: tagList(query.tag),
          author: given(query.author),
          since: optionalDate(query.since, 'since'),
          until: optionalDate(query.until, 'until'),
        },
        limit,
        given(query.cursor),
        accessOf(request),
      );
      return { memories: page.memories.map(view), nextCursor: page.nextCursor };
    }),
  );

  app.get(
    `${base}/memories/:id`,
    { config: { access: 'signed-in' }, ...validatedBy({ params: IdParams }) },
    guarded<{ Params: IdParams }>(
      async (request): Promise<MemoryView> => view(await memory.get(request.params.id, accessOf(request))),
    ),
  );

  app.patch(
    `${base}/memories/:id`,
    { config: { access: 'signed-in' }, ...validatedBy({ params: IdParams, body: MemoryPatchBody }) },
    guarded<{ Params: IdParams; Body: MemoryPatchBody }>(async (request): Promise<MemoryView> => {
      const { body } = request;
      if (body.text === undefined && body.tags === undefined)
        throw new BadRequestError('send text and/or tags');
      const updated = await memory.update(
        request.params.id,
        { text: body.text, tags: tagList(body.tags) },
        accessOf(request),
      );
      return view(updated);
    }),
  );

  app.delete(
    `${base}/memories/:id`,
    { config: { access: 'signed-in' }, ...validatedBy({ params: IdParams }) },
    guarded<{ Params: IdParams }>(async (request, reply) => {
      await memory.delete(request.params.id, accessOf(request));
      return reply.status(204).send();
    }),
  );

  app.post(
    `${base}/memories/search`,
    { config: { access: 'signed-in' }, ...validatedBy({ body: MemorySearchBody }) },
    guarded<{ Body: MemorySearchBody }>(async (request): Promise<SearchResults> => {
      const { body } = request;
      const hits = await memory.search(
        {
          query: body.query,
          k: body.k,
          threshold: body.threshold,
          space: spaceFilter(body.space),
          tags: tagList(body.tags),
          author: given(body.author),
          since: optionalDate(body.since, 'since'),
          until: optionalDate(body.until, 'until'),
        },
        accessOf(request),
      );
      return { results: hits.map((hit) => hitView(hit, authorName)) };
    }),
  );

  app.post(
    `${base}/memories/:id/share`,
    { config: { access: 'signed-in' }, ...validatedBy({ params: IdParams, body: ShareBody }) },
    guarded<{ Params: IdParams; Body: ShareBody }>(
      async (request): Promise<MemoryView> =>
        view(await memory.share(request.params.id, request.body.space, accessOf(request))),
    ),
  );

  app.post(
    `${base}/memories/:id/unshare`,
    { config: { access: 'signed-in' }, ...validatedBy({ params: IdParams }) },
    guarded<{ Params: IdParams }>(
      async (request): Promise<MemoryView> =>
        view(await memory.unshare(request.params.id, accessOf(request))),
    ),
  );

  const memorySettings = async (): Promise<MemorySettings> => ({
    chat: memory.chatSettings(),
    embedding: await memory.embeddingStatus(),
  });

  app.get(`${base}/memory/settings`, { config: { access: 'admin' } }, guarded(memorySettings));

  app.patch(
    `${base}/memory/settings`,
    { config: { access: 'admin' }, ...validatedBy({ body: MemorySettingsPatch }) },
    guarded<{ Body: MemorySettingsPatch }>(async (request): Promise<MemorySettings> => {
      const { chat, embeddingModel } = request.body;
      if (chat !== undefined) await memory.setChatSettings(chat);
      if (embeddingModel !== undefined) await memory.setEmbeddingModel(embeddingModel);
      return memorySettings();
    }),
  );

  app.get(
    `${base}/spaces`,
    { config: { access: 'signed-in' } },
    guarded(async (): Promise<SpaceList> => ({ spaces: memory.listSpaces().map(spaceView) })),
  );

  app.post(
    `${base}/spaces`,
    { config: { access: 'admin' }, ...validatedBy({ body: CreateSpaceBody }) },
    guarded<{ Body: CreateSpaceBody }>(async (request, reply) => {
      const name = validateSpaceName(request.body.name);
      const created = await memory.createSpace(name, validatePolicy(request.body.peers ?? 'all'));
      return reply.status(201).send(spaceView(created));
    }),
  );

  app.get(
    `${base}/spaces/invitations`,
    { config: { access: 'admin' }, ...validatedBy({ querystring: Type.Object({}) }) },
    guarded(
      async (): Promise<SpaceInvitationList> => ({
        invitations: memory.listInvitations().map(invitationView),
      }),
    ),
  );

  app.post(
    `${base}/spaces/invitations/:name/accept`,
    { config: { access: 'admin' }, ...validatedBy({ params: SpaceParams }) },
    guarded<{ Params: SpaceParams }>(
      async (request): Promise<SpaceView> => spaceView(await memory.acceptInvitation(request.params.name)),
    ),
  );

  app.post(
    `${base}/spaces/invitations/:name/decline`,
    { config: { access: 'admin' }, ...validatedBy({ params: SpaceParams }) },
    guarded<{ Params: SpaceParams }>(async (request): Promise<InvitationDeclined> => {
      await memory.declineInvitation(request.params.name);
      return { declined: request.params.name };
    }),
  );

  app.post(
    `${base}/spaces/:name/leave`,
    { config: { access: 'admin' }, ...validatedBy({ params: SpaceParams }) },
    guarded<{ Params: SpaceParams }>(async (request): Promise<SpaceLeft> => {
      await memory.leaveSpace(request.params.name);
      return { left: request.params.name };
    }),
  );

  app.post(
    `${base}/spaces/:name/purge-history`,
    { config: { access: 'admin' }, ...validatedBy({ params: SpaceParams }) },
    guarded<{ Params: SpaceParams }>(
      async (request): Promise<SpaceView> => spaceView(await memory.purgeHistory(request.params.name)),
    ),
  );
}

/** A space as the API shows it (a copy: the policy's list is the space's own). */
function spaceView(space: SpaceInfo): SpaceView {
  const { peers } = space.policy;
  return {
    name: space.name,
    epoch: space.epoch,
    policy: { peers: peers === 'all' ? 'all' : [...peers] },
    memories: space.memories,
  };
}
