/**
 * Entries of a reserved document: a space-like Automerge document the node keeps for itself (the
 * home's agents), synced like a space with every paired peer, never shown as one. Each entry is a
 * string (a JSON record, say) under `e/<key>`, replaced whole: a record edited on two nodes at
 * once ends as one of the two edits on every node, never as a mix.
 */
import * as Automerge from '@automerge/automerge';
import { ENTRY_KEY_PREFIX, MAX_ENTRY_BYTES, MAX_RESERVED_ENTRIES, RESERVED_DOC_PREFIX } from './constants.js';
import { InvalidSpaceInputError } from './errors.js';
import type { SpaceDoc } from './space-doc.js';

const utf8 = new TextEncoder();
const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** True when `name` names a reserved document rather than a user's space. */
export function isReservedName(name: string): boolean {
  return name.startsWith(RESERVED_DOC_PREFIX);
}

/** Throws InvalidSpaceInputError unless `name` is a usable reserved document name (`.` then a space name). */
export function validateReservedName(name: string): string {
  if (!isReservedName(name) || !KEY_PATTERN.test(name.slice(RESERVED_DOC_PREFIX.length))) {
    throw new InvalidSpaceInputError(
      `a reserved document name is "${RESERVED_DOC_PREFIX}" then 1 to 128 letters, digits, ".", "_" or "-"`,
    );
  }
  return name;
}

function validateEntry(key: string, value: string): void {
  if (!KEY_PATTERN.test(key))
    throw new InvalidSpaceInputError('an entry key is 1 to 128 letters, digits, ".", "_" or "-"');
  const bytes = utf8.encode(value).length;
  if (bytes > MAX_ENTRY_BYTES)
    throw new InvalidSpaceInputError(`entry is ${bytes} bytes; the limit is ${MAX_ENTRY_BYTES} bytes`);
}

/** Writes one entry (whole); unchanged values write nothing. */
export function putEntry(doc: SpaceDoc, key: string, value: string): SpaceDoc {
  validateEntry(key, value);
  const entries = listEntries(doc);
  if (entries.get(key) === value) return doc;
  if (!entries.has(key) && entries.size >= MAX_RESERVED_ENTRIES) {
    throw new InvalidSpaceInputError(
      `the document holds at most ${MAX_RESERVED_ENTRIES} entries; remove one before adding another`,
    );
  }
  return Automerge.change(doc, (d) => {
    d[ENTRY_KEY_PREFIX + key] = new Automerge.ImmutableString(value);
  });
}

/** Removes one entry; a no-op when absent. */
export function removeEntry(doc: SpaceDoc, key: string): SpaceDoc {
  if (!(ENTRY_KEY_PREFIX + key in doc)) return doc;
  return Automerge.change(doc, (d) => {
    delete d[ENTRY_KEY_PREFIX + key];
  });
}

/**
 * Every entry that is a string within the limits, by key, the first MAX_RESERVED_ENTRIES in key
 * order. What a peer wrote with another shape or beyond the limits is skipped: the caller
 * validates what the strings hold.
 */
export function listEntries(doc: SpaceDoc): Map<string, string> {
  const out = new Map<string, string>();
  for (const key of Object.keys(doc).sort()) {
    if (out.size >= MAX_RESERVED_ENTRIES) break;
    if (!key.startsWith(ENTRY_KEY_PREFIX)) continue;
    const raw = doc[key];
    const value = raw instanceof Automerge.ImmutableString ? raw.val : raw;
    if (typeof value !== 'string' || utf8.encode(value).length > MAX_ENTRY_BYTES) continue;
    const name = key.slice(ENTRY_KEY_PREFIX.length);
    if (KEY_PATTERN.test(name)) out.set(name, value);
  }
  return out;
}
