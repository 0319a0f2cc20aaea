/** /allerac/v1/memories, /memory/settings and /spaces: memories, search and shared spaces. */
import { type Static, Type } from '@sinclair/typebox';
import { Closed, IsoTime, Nullable, StoredText } from './schema.js';

/** A memory as the API shows it. */
export const MemoryView = Closed({
  id: Type.String(),
  text: Type.String(),
  tags: Type.Array(Type.String()),
  source: Type.String(),
  /** Its shared space; null for a private memory. */
  space: Nullable(Type.String()),
  /** The name of the node that wrote it, as it is called now (a short id when unknown). */
  author: Type.String(),
  /** The id of the node that wrote it: its peer id (or, for memories from before ids were stable, its name then). */
  authorId: Type.String(),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});
export type MemoryView = Static<typeof MemoryView>;

/** A search hit: the memory and how close it is to the query (cosine, plus a boost for exact text). */
export const MemoryHit = Closed({
  id: Type.String(),
  text: Type.String(),
  score: Type.Number(),
  space: Nullable(Type.String()),
  /** As in MemoryView. */
  author: Type.String(),
  authorId: Type.String(),
  tags: Type.Array(Type.String()),
  createdAt: IsoTime,
});
export type MemoryHit = Static<typeof MemoryHit>;

/** GET /allerac/v1/memories: one page, newest first; `nextCursor` fetches the next. */
export const MemoryPage = Closed({ memories: Type.Array(MemoryView), nextCursor: Nullable(Type.String()) });
export type MemoryPage = Static<typeof MemoryPage>;

/** Tags: one, or a list. */
const Tags = Type.Union([StoredText, Type.Array(StoredText)], {
  description: 'a string or an array of strings without NUL',
});

/** A space filter: a space name, or `private` for private memories only. */
const SpaceFilter = Type.Optional(Nullable(StoredText));

/** GET /allerac/v1/memories. Values are query text; `tag` may be repeated. */
export const MemoryListQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{0,9}$', description: 'a whole number' })),
  cursor: Type.Optional(StoredText),
  space: Type.Optional(StoredText),
  tag: Type.Optional(Tags),
  /** An author id (a memory's `authorId`), not a display name. */
  author: Type.Optional(StoredText),
  since: Type.Optional(StoredText),
  until: Type.Optional(StoredText),
});
export type MemoryListQuery = Static<typeof MemoryListQuery>;

/** POST /allerac/v1/memories. Into a space when `space` names one; private otherwise. */
export const NewMemoryBody = Type.Object({
  text: StoredText,
  tags: Type.Optional(Nullable(Tags)),
  space: SpaceFilter,
});
export type NewMemoryBody = Static<typeof NewMemoryBody>;

/** PATCH /allerac/v1/memories/:id: new text, new tags, or both. */
export const MemoryPatchBody = Type.Object({
  text: Type.Optional(StoredText),
  tags: Type.Optional(Nullable(Tags)),
});
export type MemoryPatchBody = Static<typeof MemoryPatchBody>;

/** POST /allerac/v1/memories/search. */
export const MemorySearchBody = Type.Object({
  query: Type.String({
    minLength: 1,
    pattern: '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$',
    description: 'a non-empty string without NUL',
  }),
  k: Type.Optional(Type.Integer({ minimum: 1, description: 'a positive integer' })),
  threshold: Type.Optional(Type.Number()),
  space: SpaceFilter,
  tags: Type.Optional(Nullable(Tags)),
  author: Type.Optional(Nullable(StoredText)),
  since: Type.Optional(Nullable(StoredText)),
  until: Type.Optional(Nullable(StoredText)),
});
export type MemorySearchBody = Static<typeof MemorySearchBody>;

/** POST /allerac/v1/memories/search. */
export const SearchResults = Closed({ results: Type.Array(MemoryHit) });
export type SearchResults = Static<typeof SearchResults>;

/** POST /allerac/v1/memories/:id/share. */
export const ShareBody = Type.Object({
  space: Type.String({ minLength: 1, pattern: StoredText.pattern, description: 'a space name' }),
});
export type ShareBody = Static<typeof ShareBody>;

/** Who may sync a space: every paired peer, or the listed peer ids only. */
export const SpacePeers = Type.Union([Type.Literal('all'), Type.Array(Type.String())], {
  description: '"all" or an array of peer ids',
});
export type SpacePeers = Static<typeof SpacePeers>;

/** A shared space. */
export const SpaceView = Closed({
  name: Type.String(),
  /** History epoch: a purge starts a new one. */
  epoch: Type.Number(),
  policy: Closed({ peers: SpacePeers }),
  /** How many memories it holds. */
  memories: Type.Number(),
});
export type SpaceView = Static<typeof SpaceView>;

/** GET /allerac/v1/spaces. */
export const SpaceList = Closed({ spaces: Type.Array(SpaceView) });
export type SpaceList = Static<typeof SpaceList>;

/** POST /allerac/v1/spaces (the name's rules are memory-sync's, checked by the handler). */
export const CreateSpaceBody = Type.Object({
  name: Type.String({ description: 'a space name' }),
  peers: Type.Optional(SpacePeers),
});
export type CreateSpaceBody = Static<typeof CreateSpaceBody>;

/** A space name in a path. */
export const SpaceParams = Type.Object({
  name: Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: StoredText.pattern,
    description: 'a space name',
  }),
});
export type SpaceParams = Static<typeof SpaceParams>;

/** POST /allerac/v1/spaces/:name/leave. */
export const SpaceLeft = Closed({ left: Type.String() });
export type SpaceLeft = Static<typeof SpaceLeft>;

/** A peer that offers a space. */
export const OfferingPeer = Closed({
  id: Type.String(),
  /** Its display name; its id while its card is unknown. */
  name: Type.String(),
});
export type OfferingPeer = Static<typeof OfferingPeer>;

/** A space that peers offer to this node and it does not hold: an invitation to join. */
export const SpaceInvitation = Closed({
  name: Type.String(),
  /** The peers offering it. */
  peers: Type.Array(OfferingPeer),
  /** How many memories it holds, as the peers told; null when none did. */
  memories: Nullable(Type.Number()),
});
export type SpaceInvitation = Static<typeof SpaceInvitation>;

/** GET /allerac/v1/spaces/invitations. */
export const SpaceInvitationList = Closed({ invitations: Type.Array(SpaceInvitation) });
export type SpaceInvitationList = Static<typeof SpaceInvitationList>;

/** POST /allerac/v1/spaces/invitations/:name/decline. */
export const InvitationDeclined = Closed({ declined: Type.String() });
export type InvitationDeclined = Static<typeof InvitationDeclined>;

/** Memory-aware chat: on or off, how many memories, how close they must be. */
export const ChatMemorySettings = Closed({
  enabled: Type.Boolean(),
  k: Type.Integer(),
  threshold: Type.Number(),
});
export type ChatMemorySettings = Static<typeof ChatMemorySettings>;

/** Where the embedding index stands. */
export const EmbeddingStatus = Closed({
  /** The model the user chose (or the one picked automatically). */
  model: Type.String(),
  /** The model search uses now; differs from `model` while re-embedding. */
  active: Type.String(),
  /** True while a background (re-)embedding pass runs. */
  reembedding: Type.Boolean(),
  /** Memories per embedding model ('' = not embedded yet). */
  counts: Type.Record(Type.String(), Type.Number()),
});
export type EmbeddingStatus = Static<typeof EmbeddingStatus>;

/** GET and PATCH /allerac/v1/memory/settings. */
export const MemorySettings = Closed({ chat: ChatMemorySettings, embedding: EmbeddingStatus });
export type MemorySettings = Static<typeof MemorySettings>;

/** PATCH /allerac/v1/memory/settings (the service checks the ranges). */
export const MemorySettingsPatch = Type.Object({
  chat: Type.Optional(
    Type.Object({
      enabled: Type.Optional(Type.Boolean()),
      k: Type.Optional(Type.Number()),
      threshold: Type.Optional(Type.Number()),
    }),
  ),
  embeddingModel: Type.Optional(StoredText),
});
export type MemorySettingsPatch = Static<typeof MemorySettingsPatch>;
