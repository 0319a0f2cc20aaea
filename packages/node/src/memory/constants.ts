/** Defaults and setting keys of the node's memory service. */

import type { SettingKey } from '../store/settings-keys.js';

/** The embedding model used when none is configured and the mesh offers it. */
export const DEFAULT_EMBEDDING_MODEL = 'all-minilm:latest';

/** Setting keys (store/settings-keys.ts holds their types and defaults). */
export const SETTINGS = {
  /** The embedding model the user chose; changing it re-embeds in the background. */
  embeddingModel: 'memory.embeddingModel',
  /** The model the live index vectors come from (internal). */
  activeEmbeddingModel: 'memory.activeEmbeddingModel',
  /** Memory-aware chat on or off. */
  chatEnabled: 'memory.chat.enabled',
  /** How many memories a chat may draw on. */
  chatK: 'memory.chat.k',
  /** Lowest score a memory needs to be added to a chat. */
  chatThreshold: 'memory.chat.threshold',
  /** Names this node authored memories under before it used its peer id (set once). */
  formerAuthors: 'memory.formerAuthors',
  /** The peer id this store's memories were last authored under (a restore may bring another). */
  authorId: 'memory.authorId',
  /** Space invitations declined, per space the peers whose offer was declined. */
  declinedInvitations: 'memory.declinedInvitations',
} as const satisfies Record<string, SettingKey>;

/** Memory-aware chat defaults: a few memories, only reasonably close ones. */
export const DEFAULT_CHAT_SETTINGS = { enabled: true, k: 3, threshold: 0.3 } as const;

/** Default and largest number of search results. */
export const DEFAULT_SEARCH_K = 10;
/** Largest k a search may ask for. */
export const MAX_SEARCH_K = 100;
/** Default and largest page of a listing. */
export const DEFAULT_LIST_LIMIT = 50;
/** Largest page of a listing. */
export const MAX_LIST_LIMIT = 500;
/** Texts embedded per backend call when (re-)embedding in the background. */
export const EMBED_BATCH = 32;
/** Shared memories from a peer embedded per backend call: an initial sync brings many at once. */
export const REMOTE_EMBED_BATCH = 128;
/** Added to the cosine score of a memory whose text contains the query verbatim. */
export const EXACT_MATCH_BOOST = 0.25;
/** A background embedding pass that failed is retried after this long. */
export const EMBED_RETRY_MS = 5_000;
/**
 * The most a chat waits for its memory lookup (embedding the question and searching) before it
 * answers without memories: the lookup delays the first token, and memories are an extra.
 * Embedding one question takes tens of milliseconds warm, about a second with a cold load.
 */
export const CHAT_LOOKUP_BUDGET_MS = 3_000;
/** The most one embedding call outside a chat (a memory added, a background pass) may take. */
export const EMBED_TIMEOUT_MS = 60_000;
