/** Limits of memories and spaces; each says why it has its value. */

/** Longest memory text in UTF-8 bytes: a memory is a fact or a note, not a document; 8 KiB keeps chat context small. */
export const MAX_MEMORY_TEXT_BYTES = 8 * 1024;
/** Most tags on one memory, and longest tag: enough to file a note, small enough to index cheaply. */
export const MAX_MEMORY_TAGS = 32;
/** Longest tag in characters. */
export const MAX_TAG_LENGTH = 64;
/** Root-map key prefix of a memory in a space document; other root keys form the space header. */
export const MEMORY_KEY_PREFIX = 'm/';
/**
 * Names of reserved documents start with this: a user's space name cannot (SPACE_NAME_PATTERN),
 * so a reserved document (the home's agents) never shows as a space, an invitation or a target.
 */
export const RESERVED_DOC_PREFIX = '.';
/** Root-map key prefix of an entry of a reserved document. */
export const ENTRY_KEY_PREFIX = 'e/';
/** Largest entry of a reserved document in UTF-8 bytes: a record (an agent at its limits is about 66 KB), not a blob; larger ones a peer wrote are skipped. */
export const MAX_ENTRY_BYTES = 128 * 1024;
/**
 * Most entries a reserved document holds: a home has dozens of agents, not thousands. Beyond it a
 * new entry is refused here, and only the first ones by key are read of what peers wrote, so a
 * paired peer that floods the document cannot make every node parse an unbounded list.
 */
export const MAX_RESERVED_ENTRIES = 256;
