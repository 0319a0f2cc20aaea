/** Limits of memories and spaces; each says why it has its value. */

/** Longest memory text in UTF-8 bytes: a memory is a fact or a note, not a document; 8 KiB keeps chat context small. */
export const MAX_MEMORY_TEXT_BYTES = 8 * 1024;
/** Most tags on one memory, and longest tag: enough to file a note, small enough to index cheaply. */
export const MAX_MEMORY_TAGS = 32;
/** Longest tag in characters. */
export const MAX_TAG_LENGTH = 64;
/** Root-map key prefix of a memory in a space document; other root keys form the space header. */
export const MEMORY_KEY_PREFIX = 'm/';
