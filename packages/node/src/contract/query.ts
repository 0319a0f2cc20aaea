/**
 * Path parameters and query strings of the management and UI routes, as route schemas. Fastify
 * hands a repeated query parameter over as an array, so a schema of strings refuses `?model=a&
 * model=b` with a 400 instead of letting a handler call string methods on an array. Values are
 * strings as they arrive (no coercion); the handler converts them.
 */
import { type Static, Type } from '@sinclair/typebox';
import { OneOf, STORABLE_TEXT_PATTERN } from './schema.js';

/** One query value: a string (not a repeated parameter) that the store can hold. */
const QueryText = Type.String({
  pattern: STORABLE_TEXT_PATTERN,
  description: 'a single text value without NUL',
});

/** A count or an offset as written in a query string; empty means the default. */
const WholeNumber = Type.String({ pattern: '^[0-9]{0,9}$', description: 'a whole number' });

/** An id in a path: stored ids never hold NUL, and PostgreSQL refuses one even in a lookup. */
export const IdParams = Type.Object({
  id: Type.String({ pattern: STORABLE_TEXT_PATTERN, maxLength: 256, description: 'an id' }),
});
export type IdParams = Static<typeof IdParams>;

/** A model name in a path (DELETE /allerac/v1/models/:name), already percent-decoded by the router. */
export const ModelNameParams = Type.Object({
  name: Type.String({
    pattern: STORABLE_TEXT_PATTERN,
    minLength: 1,
    maxLength: 512,
    description: 'a model name',
  }),
});
export type ModelNameParams = Static<typeof ModelNameParams>;

/** GET /allerac/v1/conversations. */
export const ConversationListQuery = Type.Object({
  limit: Type.Optional(WholeNumber),
  offset: Type.Optional(WholeNumber),
  /** Text to find in the titles and messages, case-insensitive. */
  q: Type.Optional(
    Type.String({
      pattern: STORABLE_TEXT_PATTERN,
      maxLength: 200,
      description: 'at most 200 characters without NUL',
    }),
  ),
  /** `ui` (the caller's own web UI chats; the default), `api` (other clients) or `all`. */
  source: Type.Optional(OneOf(['ui', 'api', 'all'] as const)),
});
export type ConversationListQuery = Static<typeof ConversationListQuery>;

/** GET /allerac/v1/route. */
export const RouteQuery = Type.Object({
  model: Type.Optional(QueryText),
  policy: Type.Optional(QueryText),
  node: Type.Optional(QueryText),
  specialization: Type.Optional(QueryText),
  /** Prompt length to explain the placement of, in tokens (a long prompt weighs prompt evaluation). */
  promptTokens: Type.Optional(WholeNumber),
  /** Output tokens to explain the placement of (num_predict); 256 when absent. */
  maxTokens: Type.Optional(WholeNumber),
  /** The request's num_ctx: a model loaded with another context length counts as cold. */
  numCtx: Type.Optional(WholeNumber),
});
export type RouteQuery = Static<typeof RouteQuery>;

/** GET /allerac/v1/backups. */
export const BackupListQuery = Type.Object({ dir: Type.Optional(QueryText) });
export type BackupListQuery = Static<typeof BackupListQuery>;
