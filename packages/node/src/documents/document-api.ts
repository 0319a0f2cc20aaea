/**
 * /allerac/v1/documents: import (the file is the body), list, delete and search. Imports run in a
 * scope of their own whose only body parser takes the raw bytes, up to MAX_DOCUMENT_BYTES; every
 * other route keeps the node's JSON parser and limit.
 */
import type { FastifyInstance } from 'fastify';
import {
  type DocumentHitView,
  DocumentImportQuery,
  type DocumentList,
  DocumentListQuery,
  DocumentParams,
  DocumentSearchBody,
  type DocumentSearchResults,
  type DocumentView,
} from '../contract/documents.js';
import { toHttpError } from '../http/errors.js';
import { validatedBy } from '../http/validate.js';
import { accessOf, memberKey } from '../memory/memory-api.js';
import { MAX_DOCUMENT_BYTES } from './constants.js';
import type { DocumentInfo, DocumentLibrary } from './document-library.js';
import { type DocumentHit, searchDocuments } from './document-search.js';

/** A document as the API shows it. */
export function documentView(info: DocumentInfo): DocumentView {
  return {
    id: info.id,
    name: info.name,
    type: info.type,
    parts: info.parts,
    space: info.space,
    createdAt: info.createdAt.toISOString(),
  };
}

const hitView = (hit: DocumentHit): DocumentHitView => ({ ...hit });

/** `space=private` (or absent on import) means private; on a listing, absent means any. */
const spaceOf = (space: string | undefined): string | null | undefined =>
  space === undefined || space === '' ? undefined : space === 'private' ? null : space;

/** Registers the document routes. */
export async function registerDocumentApi(app: FastifyInstance, library: DocumentLibrary): Promise<void> {
  const base = '/allerac/v1/documents';
  const guarded = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw toHttpError(error);
    }
  };

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_DOCUMENT_BYTES }, (_r, body, done) =>
      done(null, body),
    );
    scope.post(
      base,
      {
        config: { access: 'signed-in', fileBody: true },
        bodyLimit: MAX_DOCUMENT_BYTES,
        ...validatedBy({ querystring: DocumentImportQuery }),
      },
      async (request, reply) => {
        const query = request.query as DocumentImportQuery;
        const body = request.body;
        const created = await guarded(() =>
          library.import({
            name: query.name,
            mediaType: request.headers['content-type'],
            data: body instanceof Uint8Array ? body : new Uint8Array(),
            space: spaceOf(query.space) ?? null,
            owner: memberKey(request) ?? null,
          }),
        );
        return reply.status(201).send(documentView(created));
      },
    );
  });

  app.get(
    base,
    { config: { access: 'signed-in' }, ...validatedBy({ querystring: DocumentListQuery }) },
    async (request): Promise<DocumentList> => {
      const query = request.query as DocumentListQuery;
      const page = await guarded(() =>
        library.list({ space: spaceOf(query.space) }, query.cursor || undefined, accessOf(request)),
      );
      return { documents: page.documents.map(documentView), nextCursor: page.nextCursor };
    },
  );

  app.delete(
    `${base}/:id`,
    { config: { access: 'signed-in' }, ...validatedBy({ params: DocumentParams }) },
    async (request, reply) => {
      const { id } = request.params as DocumentParams;
      await guarded(() => library.delete(id, accessOf(request)));
      return reply.status(204).send();
    },
  );

  app.post(
    `${base}/search`,
    { config: { access: 'signed-in' }, ...validatedBy({ body: DocumentSearchBody }) },
    async (request): Promise<DocumentSearchResults> => {
      const body = request.body as DocumentSearchBody;
      const hits = await guarded(() =>
        searchDocuments(library.memory, body.query, {
          spaces: body.spaces,
          limit: body.limit,
          access: accessOf(request),
        }),
      );
      return { results: hits.map(hitView) };
    },
  );
}
