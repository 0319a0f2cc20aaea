/**
 * A space as an Automerge document. The root map holds a small header (`epoch`, `purgedAt`) and
 * one entry per memory under `m/<id>`. Memories sit directly under the root, not in a shared
 * container, so two nodes that create the same space independently merge without conflict.
 * No vectors are stored: every node embeds shared text with its own model.
 */
import * as Automerge from '@automerge/automerge';
import { MAX_MEMORY_TAGS, MAX_MEMORY_TEXT_BYTES, MAX_TAG_LENGTH, MEMORY_KEY_PREFIX } from './constants.js';
import { InvalidSpaceInputError } from './errors.js';

/** Where a memory came from; `document` is one part of an imported document (tags say which). */
export type MemorySource = 'user' | 'chat' | 'import' | 'document';

/** A memory as held in a shared space. */
export interface SharedMemory {
  /** Stable id, the same on every node. */
  id: string;
  /** The memory's text. */
  text: string;
  /** Free-form tags. */
  tags: string[];
  /** Where it came from. */
  source: MemorySource;
  /** The node that wrote it first. */
  author: string;
  /** Creation time, ms since the epoch. */
  createdAt: number;
  /** Last update time, ms since the epoch. */
  updatedAt: number;
}

interface StoredEntry {
  id: string;
  text: Automerge.ImmutableString | string;
  tags: string[];
  source: string;
  author: string;
  createdAt: number;
  updatedAt: number;
}

/** The document's shape: header fields plus `m/<id>` entries. */
export type SpaceDocument = {
  /** Bumped by each history purge; peers on an older epoch replace their copy. */
  epoch?: number;
  /** When the history was last purged, ms since the epoch. */
  purgedAt?: number;
} & Record<string, unknown>;

/** An Automerge document of a space. */
export type SpaceDoc = Automerge.Doc<SpaceDocument>;

const SOURCES: readonly string[] = ['user', 'chat', 'import', 'document'];
const utf8 = new TextEncoder();

/** Checks a memory's fields against the documented limits; throws InvalidSpaceInputError. */
export function validateMemoryText(text: unknown): string {
  if (typeof text !== 'string' || text.trim() === '')
    throw new InvalidSpaceInputError('text must be a non-empty string');
  const bytes = utf8.encode(text).length;
  if (bytes > MAX_MEMORY_TEXT_BYTES) {
    throw new InvalidSpaceInputError(`text is ${bytes} bytes; the limit is ${MAX_MEMORY_TEXT_BYTES} bytes`);
  }
  return text;
}

/** Checks tags: at most MAX_MEMORY_TAGS strings of 1 to MAX_TAG_LENGTH characters. */
export function validateTags(tags: unknown): string[] {
  if (tags === undefined || tags === null) return [];
  if (
    !Array.isArray(tags) ||
    tags.length > MAX_MEMORY_TAGS ||
    !tags.every((t) => typeof t === 'string' && t.length > 0 && t.length <= MAX_TAG_LENGTH)
  ) {
    throw new InvalidSpaceInputError(
      `tags must be an array of at most ${MAX_MEMORY_TAGS} strings of 1 to ${MAX_TAG_LENGTH} characters`,
    );
  }
  return [...new Set(tags as string[])];
}

/** A new, empty space document at `epoch`. */
export function createSpaceDoc(): SpaceDoc {
  return Automerge.init<SpaceDocument>();
}

/** Loads a saved document; throws InvalidSpaceInputError when the bytes are not one. */
export function loadSpaceDoc(bytes: Uint8Array): SpaceDoc {
  try {
    return Automerge.load<SpaceDocument>(bytes);
  } catch (cause) {
    throw new InvalidSpaceInputError(`not a space document: ${(cause as Error).message}`, { cause });
  }
}

/** The saved form of a document (full history, compressed). */
export function saveSpaceDoc(doc: SpaceDoc): Uint8Array {
  return Automerge.save(doc);
}

/** The epoch of a document: 0 until its history was first purged. */
export function epochOf(doc: SpaceDoc): number {
  const epoch = doc.epoch;
  return typeof epoch === 'number' && Number.isSafeInteger(epoch) && epoch >= 0 ? epoch : 0;
}

/** Adds or updates a memory; only changed fields are written, so concurrent edits of different fields merge. */
export function putMemory(doc: SpaceDoc, memory: SharedMemory): SpaceDoc {
  validateMemoryText(memory.text);
  const tags = validateTags(memory.tags);
  const key = MEMORY_KEY_PREFIX + memory.id;
  return Automerge.change(doc, (d) => {
    const existing = d[key] as StoredEntry | undefined;
    if (existing === undefined || typeof existing !== 'object' || existing === null) {
      d[key] = {
        id: memory.id,
        text: new Automerge.ImmutableString(memory.text),
        tags,
        source: memory.source,
        author: memory.author,
        createdAt: memory.createdAt,
        updatedAt: memory.updatedAt,
      } satisfies StoredEntry;
      return;
    }
    if (String(existing.text) !== memory.text) existing.text = new Automerge.ImmutableString(memory.text);
    if (JSON.stringify(existing.tags) !== JSON.stringify(tags)) existing.tags = tags;
    if (existing.updatedAt !== memory.updatedAt) existing.updatedAt = memory.updatedAt;
  });
}

/** Removes a memory from the space (its text stays in the history until a purge). */
export function removeMemory(doc: SpaceDoc, id: string): SpaceDoc {
  const key = MEMORY_KEY_PREFIX + id;
  if (!(key in doc)) return doc;
  return Automerge.change(doc, (d) => {
    delete d[key];
  });
}

/** One memory of the space, or undefined. */
export function getMemory(doc: SpaceDoc, id: string): SharedMemory | undefined {
  return toMemory(doc[MEMORY_KEY_PREFIX + id]);
}

/**
 * Every well-formed memory of the space. Entries a peer wrote with the wrong shape or beyond the
 * limits are skipped, so a bad peer cannot push garbage into the local index.
 */
export function listMemories(doc: SpaceDoc): SharedMemory[] {
  const out: SharedMemory[] = [];
  for (const key of Object.keys(doc)) {
    if (!key.startsWith(MEMORY_KEY_PREFIX)) continue;
    const memory = toMemory(doc[key]);
    if (memory !== undefined && memory.id === key.slice(MEMORY_KEY_PREFIX.length)) out.push(memory);
  }
  return out;
}

/**
 * A fresh document holding only the current memories, at `epoch`, with no past: what a history
 * purge leaves. Every node that adopts it drops its old document entirely.
 */
export function purgedCopy(doc: SpaceDoc, epoch: number, now = Date.now()): SpaceDoc {
  const memories = listMemories(doc);
  return Automerge.change(Automerge.init<SpaceDocument>(), (d) => {
    d.epoch = epoch;
    d.purgedAt = now;
    for (const memory of memories) {
      d[MEMORY_KEY_PREFIX + memory.id] = {
        ...memory,
        text: new Automerge.ImmutableString(memory.text),
      } satisfies StoredEntry;
    }
  });
}

/**
 * True when `text` occurs anywhere in the document's history: in any operation of any change.
 * Used to prove that a purge left no trace.
 */
export function historyContains(doc: SpaceDoc, text: string): boolean {
  for (const change of Automerge.getAllChanges(doc)) {
    const decoded = Automerge.decodeChange(change);
    if (JSON.stringify(decoded.ops).includes(JSON.stringify(text).slice(1, -1))) return true;
    if ((decoded.message ?? '').includes(text)) return true;
  }
  return false;
}

function toMemory(value: unknown): SharedMemory | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const entry = value as Partial<StoredEntry>;
  const text = entry.text instanceof Automerge.ImmutableString ? entry.text.val : entry.text;
  if (typeof entry.id !== 'string' || entry.id === '' || entry.id.length > 128) return undefined;
  if (typeof text !== 'string' || text.trim() === '' || utf8.encode(text).length > MAX_MEMORY_TEXT_BYTES)
    return undefined;
  if (typeof entry.author !== 'string' || entry.author.length > 256) return undefined;
  if (typeof entry.createdAt !== 'number' || typeof entry.updatedAt !== 'number') return undefined;
  let tags: string[];
  try {
    tags = validateTags(Array.isArray(entry.tags) ? [...entry.tags].map(String) : []);
  } catch {
    return undefined;
  }
  const source = SOURCES.includes(String(entry.source)) ? (entry.source as MemorySource) : 'user';
  return {
    id: entry.id,
    text,
    tags,
    source,
    author: entry.author,
    createdAt: entry.createdAt,
    updatedAt: entry.updatedAt,
  };
}
