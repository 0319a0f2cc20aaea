/** /allerac/v1/documents: the home's documents, imported as searchable parts of a space. */
import { type Static, Type } from '@sinclair/typebox';
import { Closed, IsoTime, Nullable, OneOf, RequiredText, StoredText } from './schema.js';

/** An imported document. */
export const DocumentView = Closed({
  id: Type.String(),
  /** The file's name, without directories, at most 59 characters. */
  name: Type.String(),
  type: OneOf(['pdf', 'markdown', 'text'] as const),
  /** How many searchable parts its text was split into. */
  parts: Type.Number(),
  /** Its shared space; null for a private document. */
  space: Nullable(Type.String()),
  createdAt: IsoTime,
});
export type DocumentView = Static<typeof DocumentView>;

/** GET /allerac/v1/documents: one page, newest first. */
export const DocumentList = Closed({
  documents: Type.Array(DocumentView),
  nextCursor: Nullable(Type.String()),
});
export type DocumentList = Static<typeof DocumentList>;

/**
 * POST /allerac/v1/documents?name=…&space=…: the body is the file itself, its type in the
 * Content-Type (application/pdf, text/markdown, text/plain; application/octet-stream lets the
 * name's extension decide). Without `space`, the document is private.
 */
export const DocumentImportQuery = Type.Object({
  name: RequiredText(1024),
  space: Type.Optional(StoredText),
});
export type DocumentImportQuery = Static<typeof DocumentImportQuery>;

/** GET /allerac/v1/documents: `space=private` lists private documents only. */
export const DocumentListQuery = Type.Object({
  space: Type.Optional(StoredText),
  cursor: Type.Optional(StoredText),
});
export type DocumentListQuery = Static<typeof DocumentListQuery>;

/** A document id in a path. */
export const DocumentParams = Type.Object({
  id: Type.String({
    pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
    description: 'a document id',
  }),
});
export type DocumentParams = Static<typeof DocumentParams>;

/** POST /allerac/v1/documents/search. */
export const DocumentSearchBody = Type.Object({
  query: RequiredText(4000),
  /** Spaces to search (`private` for private documents); absent: all the caller sees. */
  spaces: Type.Optional(Type.Array(RequiredText(256), { maxItems: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
});
export type DocumentSearchBody = Static<typeof DocumentSearchBody>;

/** A part found by a search, with its citation `[name, part N]`. */
export const DocumentHitView = Closed({
  documentId: Type.String(),
  name: Type.String(),
  part: Type.Number(),
  parts: Type.Number(),
  text: Type.String(),
  score: Type.Number(),
  space: Nullable(Type.String()),
  citation: Type.String(),
});
export type DocumentHitView = Static<typeof DocumentHitView>;

/** POST /allerac/v1/documents/search's answer, best first. */
export const DocumentSearchResults = Closed({ results: Type.Array(DocumentHitView) });
export type DocumentSearchResults = Static<typeof DocumentSearchResults>;
