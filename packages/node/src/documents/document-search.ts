/**
 * Search over the home's documents, with a citation for each hit: the parts closest to a query
 * among the spaces asked for (or every space the caller sees, and its private documents).
 * The `documents.search` tool and the web UI call this; chats cite parts the same way.
 */
import type { MemoryAccess, MemoryService } from '../memory/memory-service.js';
import type { MemoryHit } from '../store/memory-repository.js';
import { DEFAULT_DOCUMENT_HITS, DOCUMENT_TAG, MAX_DOCUMENT_HITS } from './constants.js';
import { citationOf, partInfo } from './document-tags.js';

/** One part found by a search. */
export interface DocumentHit {
  documentId: string;
  /** The document's name, as imported. */
  name: string;
  /** Which part, from 1, of `parts`. */
  part: number;
  parts: number;
  text: string;
  /** Cosine similarity, plus a boost when the part holds the query verbatim. */
  score: number;
  space: string | null;
  /** `[name, part N]`. */
  citation: string;
}

/** Where and how much to search. */
export interface DocumentSearchOptions {
  /** Spaces to search; `private` names private documents. Absent: everything the caller sees. */
  spaces?: readonly string[] | undefined;
  /** Most hits; default DEFAULT_DOCUMENT_HITS, at most MAX_DOCUMENT_HITS. */
  limit?: number | undefined;
  /** Hits scoring below this are dropped. */
  threshold?: number | undefined;
  /** Whose view: a member sees shared documents and its own private ones. */
  access?: MemoryAccess | undefined;
  /** Ends the search early (the caller left). */
  signal?: AbortSignal | undefined;
}

/** The parts of documents closest to `query`, best first. */
export async function searchDocuments(
  memory: MemoryService,
  query: string,
  options: DocumentSearchOptions = {},
): Promise<DocumentHit[]> {
  const limit = Math.min(Math.max(1, Math.trunc(options.limit ?? DEFAULT_DOCUMENT_HITS)), MAX_DOCUMENT_HITS);
  const search = (space: string | null | undefined) =>
    memory.search(
      { query, k: limit, threshold: options.threshold, tags: [DOCUMENT_TAG], space },
      options.access,
      options.signal,
    );
  const spaces = options.spaces === undefined ? [undefined] : [...new Set(options.spaces)];
  const found = (await Promise.all(spaces.map((space) => search(space === 'private' ? null : space)))).flat();
  return found
    .flatMap((hit) => {
      const view = documentHit(hit);
      return view === undefined ? [] : [view];
    })
    .sort((a, b) => b.score - a.score)
    .slice(0, limit);
}

/** A memory hit as a document hit, or undefined when the memory is not a document part. */
export function documentHit(hit: MemoryHit): DocumentHit | undefined {
  const info = partInfo(hit.tags);
  if (info === undefined || hit.source !== 'document') return undefined;
  return {
    documentId: info.documentId,
    name: info.name,
    part: info.part,
    parts: info.parts,
    text: hit.text,
    score: Math.round(hit.score * 10_000) / 10_000,
    space: hit.space,
    citation: citationOf(info),
  };
}
