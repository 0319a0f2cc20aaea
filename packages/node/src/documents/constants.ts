/** Limits of document import; each says why it has its value (README, "Documents"). */

/** Largest file accepted, in bytes: a manual or a contract fits, and the upload fits the request timeout. */
export const MAX_DOCUMENT_BYTES = 20 * 1024 * 1024;
/**
 * Most text kept from one document, in characters: every part becomes a memory embedded by this
 * node and synced to the space's peers, so a book-sized text would flood both.
 */
export const MAX_DOCUMENT_TEXT_CHARS = 600_000;
/** Longest part in characters: a few paragraphs, well under a memory's 8 KiB even in 4-byte UTF-8. */
export const MAX_CHUNK_CHARS = 1_200;
/** Characters a part repeats from the end of the one before, so a fact cut in two is found whole in one. */
export const CHUNK_OVERLAP_CHARS = 200;
/** A heading starts a new part once the current one holds at least this much. */
export const MIN_CHUNK_CHARS = 200;
/** Longest document name kept (it is stored in a tag of at most 64 characters, after `name:`). */
export const MAX_DOCUMENT_NAME_CHARS = 59;
/** Default and largest number of document search hits. */
export const DEFAULT_DOCUMENT_HITS = 5;
/** Largest number of document search hits. */
export const MAX_DOCUMENT_HITS = 50;

/** The tag every part of every document carries. */
export const DOCUMENT_TAG = 'document';
