/**
 * /allerac/v1/memories and /allerac/v1/spaces: the memory API of the interface contract. Every
 * route needs a token or a session; a member sees shared memories and its own private ones, and
 * changes or shares only its own (docs/security.md has the matrix).
 */
import {
  InvalidSpaceInputError,
  MalformedSyncMessageError,
  SpaceExistsError,
  UnknownSpaceError,
  validatePolicy,
  validateSpaceName,
} from '@allerac/memory-sync';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequestError, HttpError } from '../http/errors.js';
import { requireObject } from '../http/validate.js';
import { InvalidCursorError, type MemoryHit, type MemoryRecord } from '../store/memory-repository.js';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from './constants.js';
import type { MemoryAccess, MemoryService } from './memory-service.js';

/** The owner key of a member principal: memories it writes carry it, and it sees only those privately. */
export function memberKey(request: FastifyRequest): string | undefined {
  const principal = request.principal;
  if (principal?.role !== 'member' || principal.id === undefined) return undefined;
  return `${principal.kind === 'session' ? 'user' : 'token'}:${principal.id}`;
}

/** The view a request takes of the memories. */
export const accessOf = (request: FastifyRequest): MemoryAccess => ({ member: memberKey(request) });

/** A memory as the API shows it. */
export function memoryView(memory: MemoryRecord) {
  return {
    id: memory.id,
    text: memory.text,
    tags: memory.tags,
    source: memory.source,
    space: memory.space,
    author: memory.authorNode,
    createdAt: memory.createdAt.toISOString(),
    updatedAt: memory.updatedAt.toISOString(),
  };
}

/** A search hit as the API shows it. */
export function hitView(hit: MemoryHit) {
  return {
    id: hit.id,
    text: hit.text,
    score: Math.round(hit.score * 10_000) / 10_000,
    space: hit.space,
    author: hit.authorNode,
    tags: hit.tags,
    createdAt: hit.createdAt.toISOString(),
  };
}

/** Maps memory and space errors to HTTP errors with a clear status. */
export function toMemoryHttpError(error: unknown): unknown {
  if (error instanceof HttpError) return error;
  if (error instanceof UnknownSpaceError)
    return new HttpError(404, error.message, 'invalid_request_error', 'unknown_space');
  if (error instanceof SpaceExistsError)
    return new HttpError(409, error.message, 'invalid_request_error', 'space_exists');
  if (
    error instanceof InvalidSpaceInputError ||
    error instanceof InvalidCursorError ||
    error instanceof MalformedSyncMessageError
  ) {
    return new BadRequestError(error.message);
  }
  return error;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
const guarded =
  (handler: Handler): Handler =>
  async (request, reply) => {
    try {
      return await handler(request, reply);
    } catch (error) {
      throw toMemoryHttpError(error);
    }
  };

const optionalString = (value: unknown, field: string): string | undefined => {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new BadRequestError(`${field} must be a string`);
  return value;
};

const optionalDate = (value: unknown, field: string): Date | undefined => {
  const text = optionalString(value, field);
  if (text === undefined) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new BadRequestError(`${field} must be an ISO 8601 time`);
  return date;
};

const tagList = (value: unknown): string[] | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((t) => typeof t === 'string')) return value as string[];
  throw new BadRequestError('tags must be an array of strings');
};

/** Registers the memory and space routes. */
export function registerMemoryApi(app: FastifyInstance, memory: MemoryService): void {
  const base = '/allerac/v1';

  app.post(
    `${base}/memories`,
    { config: { access: 'signed-in' } },
    guarded(async (request, reply) => {
      const body = requireObject(request.body);
      const created = await memory.add({
        text: body.text as string,
        tags: tagList(body.tags),
        space: optionalString(body.space, 'space') ?? null,
        owner: memberKey(request) ?? null,
      });
      return reply.status(201).send(memoryView(created));
    }),
  );

  app.get(
    `${base}/memories`,
    { config: { access: 'signed-in' } },
    guarded(async (request) => {
      const query = request.query as Record<string, unknown>;
      const limitRaw = optionalString(query.limit, 'limit');
      const limit = limitRaw === undefined ? DEFAULT_LIST_LIMIT : Number(limitRaw);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
        throw new BadRequestError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
      }
      const space = optionalString(query.space, 'space');
      const page = await memory.list(
        {
          // `space=private` lists private memories only.
          space: space === undefined ? undefined : space === 'private' ? null : space,
          tags: tagList(query.tag),
          author: optionalString(query.author, 'author'),
          since: optionalDate(query.since, 'since'),
          until: optionalDate(query.until, 'until'),
        },
        limit,
        optionalString(query.cursor, 'cursor'),
        accessOf(request),
      );
      return { memories: page.memories.map(memoryView), nextCursor: page.nextCursor };
    }),
  );

  app.get(
    `${base}/memories/:id`,
    { config: { access: 'signed-in' } },
    guarded(async (request) =>
      memoryView(await memory.get((request.params as { id: string }).id, accessOf(request))),
    ),
  );

  app.patch(
    `${base}/memories/:id`,
    { config: { access: 'signed-in' } },
    guarded(async (request) => {
      const body = requireObject(request.body);
      if (body.text === undefined && body.tags === undefined)
        throw new BadRequestError('send text and/or tags');
      const updated = await memory.update(
        (request.params as { id: string }).id,
        {
          text: body.text === undefined ? undefined : (body.text as string),
          tags: tagList(body.tags),
        },
        accessOf(request),
      );
      return memoryView(updated);
    }),
  );

  app.delete(
    `${base}/memories/:id`,
    { config: { access: 'signed-in' } },
    guarded(async (request, reply) => {
      await memory.delete((request.params as { id: string }).id, accessOf(request));
      return reply.status(204).send();
    }),
  );

  app.post(
    `${base}/memories/search`,
    { config: { access: 'signed-in' } },
    guarded(async (request) => {
      const body = requireObject(request.body);
      if (typeof body.query !== 'string' || body.query.trim() === '') {
        throw new BadRequestError('query must be a non-empty string');
      }
      if (body.k !== undefined && (typeof body.k !== 'number' || !Number.isInteger(body.k) || body.k < 1)) {
        throw new BadRequestError('k must be a positive integer');
      }
      if (body.threshold !== undefined && typeof body.threshold !== 'number') {
        throw new BadRequestError('threshold must be a number');
      }
      const space = optionalString(body.space, 'space');
      const hits = await memory.search(
        {
          query: body.query,
          k: body.k as number | undefined,
          threshold: body.threshold as number | undefined,
          space: space === undefined ? undefined : space === 'private' ? null : space,
          tags: tagList(body.tags),
          author: optionalString(body.author, 'author'),
          since: optionalDate(body.since, 'since'),
          until: optionalDate(body.until, 'until'),
        },
        accessOf(request),
      );
      return { results: hits.map(hitView) };
    }),
  );

  app.post(
    `${base}/memories/:id/share`,
    { config: { access: 'signed-in' } },
    guarded(async (request) => {
      const body = requireObject(request.body);
      const space = optionalString(body.space, 'space');
      if (space === undefined) throw new BadRequestError('space is required');
      return memoryView(await memory.share((request.params as { id: string }).id, space, accessOf(request)));
    }),
  );

  app.post(
    `${base}/memories/:id/unshare`,
    { config: { access: 'signed-in' } },
    guarded(async (request) =>
      memoryView(await memory.unshare((request.params as { id: string }).id, accessOf(request))),
    ),
  );

  app.get(
    `${base}/memory/settings`,
    { config: { access: 'admin' } },
    guarded(async () => ({ chat: memory.chatSettings(), embedding: await memory.embeddingStatus() })),
  );

  app.patch(
    `${base}/memory/settings`,
    { config: { access: 'admin' } },
    guarded(async (request) => {
      const body = requireObject(request.body);
      if (body.chat !== undefined) await memory.setChatSettings(requireObject(body.chat));
      if (body.embeddingModel !== undefined) await memory.setEmbeddingModel(body.embeddingModel as string);
      return { chat: memory.chatSettings(), embedding: await memory.embeddingStatus() };
    }),
  );

  app.get(
    `${base}/spaces`,
    { config: { access: 'signed-in' } },
    guarded(async () => ({ spaces: memory.listSpaces() })),
  );

  app.post(
    `${base}/spaces`,
    { config: { access: 'admin' } },
    guarded(async (request, reply) => {
      const body = requireObject(request.body);
      const name = validateSpaceName(body.name);
      const created = await memory.createSpace(name, validatePolicy(body.peers ?? 'all'));
      return reply.status(201).send(created);
    }),
  );

  app.post(
    `${base}/spaces/:name/leave`,
    { config: { access: 'admin' } },
    guarded(async (request) => {
      const { name } = request.params as { name: string };
      await memory.leaveSpace(name);
      return { left: name };
    }),
  );

  app.post(
    `${base}/spaces/:name/purge-history`,
    { config: { access: 'admin' } },
    guarded(async (request) => memory.purgeHistory((request.params as { name: string }).name)),
  );
}
