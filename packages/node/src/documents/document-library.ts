/**
 * The home's documents: an imported file becomes parts (chunk-text.ts), each stored as a memory
 * of source `document` in a space or in private memory. Being memories, parts are embedded by each
 * node's own model, synced by the space's policy and kept private when no space is named.
 * Everything that can refuse a file (type, size, text) runs before anything is stored.
 */
import { randomUUID } from 'node:crypto';
import { UnknownSpaceError } from '@allerac/memory-sync';
import type { Logger } from 'pino';
import { InvalidInputError } from '../errors.js';
import { MAX_LIST_LIMIT } from '../memory/constants.js';
import type { MemoryAccess, MemoryService } from '../memory/memory-service.js';
import type { MemoryRecord } from '../store/memory-repository.js';
import { chunkText } from './chunk-text.js';
import { DOCUMENT_TAG } from './constants.js';
import { documentIdTag, documentName, partInfo, partTags } from './document-tags.js';
import { DocumentNotFoundError, EmptyDocumentError } from './errors.js';
import { type DocumentType, documentTypeOf, extractDocumentText } from './extract-text.js';

/** A file to import. */
export interface DocumentUpload {
  /** The file's name (a path is cut to its last part). */
  name: string;
  /** Its media type; a generic one lets the name's extension decide. */
  mediaType?: string | undefined;
  data: Uint8Array;
  /** The space to put it in; null or absent means private. */
  space?: string | null | undefined;
  /** The member account importing it (MemoryRecord.owner). */
  owner?: string | null | undefined;
}

/** An imported document. */
export interface DocumentInfo {
  id: string;
  name: string;
  type: DocumentType;
  parts: number;
  space: string | null;
  createdAt: Date;
}

/** A page of documents, newest first. */
export interface DocumentPage {
  documents: DocumentInfo[];
  nextCursor: string | null;
}

/** Injected parts of the library. */
export interface DocumentLibraryComponents {
  memory: MemoryService;
  logger: Logger;
}

/** Imports, lists and deletes documents. */
export class DocumentLibrary {
  constructor(private readonly components: DocumentLibraryComponents) {}

  /** The memory service the parts live in (document-search.ts searches it). */
  get memory(): MemoryService {
    return this.components.memory;
  }

  /** Imports a file; resolves once every part is stored. On any failure nothing is left stored. */
  async import(upload: DocumentUpload): Promise<DocumentInfo> {
    const name = documentName(upload.name);
    if (name === '')
      throw new InvalidInputError('a document needs a name (?name=report.pdf)', { param: 'name' });
    const type = documentTypeOf(upload.mediaType, name);
    const space = upload.space ?? null;
    const { memory, logger } = this.components;
    if (space !== null && !memory.spaces.has(space)) throw new UnknownSpaceError(space);
    const text = await extractDocumentText(upload.data, type);
    const chunks = chunkText(text);
    if (chunks.length === 0) throw new EmptyDocumentError();
    const id = randomUUID();
    const started = performance.now();
    const stored: string[] = [];
    try {
      for (const [index, chunk] of chunks.entries()) {
        const added = await memory.add({
          text: chunk,
          tags: partTags({ documentId: id, name, type, part: index + 1, parts: chunks.length }),
          space,
          source: 'document',
          owner: upload.owner ?? null,
        });
        stored.push(added.id);
      }
    } catch (error) {
      for (const memoryId of stored) await memory.delete(memoryId).catch(() => {});
      throw error;
    }
    logger.info(
      {
        event: 'document-imported',
        document: id,
        type,
        parts: chunks.length,
        bytes: upload.data.byteLength,
        shared: space !== null,
        ms: Math.round(performance.now() - started),
      },
      'document imported',
    );
    const first = await memory.get(stored[0]!);
    return { id, name, type, parts: chunks.length, space, createdAt: first.createdAt };
  }

  /** The documents the caller may see, newest first; `space: null` lists private ones only. */
  async list(
    filter: { space?: string | null | undefined } = {},
    cursor?: string,
    access: MemoryAccess = {},
  ): Promise<DocumentPage> {
    // Every document has exactly one first part: listing those lists the documents.
    const page = await this.components.memory.list(
      { space: filter.space, tags: [DOCUMENT_TAG, 'part:1'] },
      MAX_LIST_LIMIT,
      cursor,
      access,
    );
    return {
      documents: page.memories.flatMap((record) => {
        const info = documentInfo(record);
        return info === undefined ? [] : [info];
      }),
      nextCursor: page.nextCursor,
    };
  }

  /** Deletes every part of a document (from its space on every peer); a member deletes only its own. */
  async delete(id: string, access: MemoryAccess = {}): Promise<void> {
    const { memory } = this.components;
    let deleted = 0;
    for (;;) {
      const page = await memory.list({ tags: [documentIdTag(id)] }, MAX_LIST_LIMIT, undefined, access);
      const parts = page.memories.filter((record) => record.source === 'document');
      if (parts.length === 0) break;
      for (const part of parts) await memory.delete(part.id, access);
      deleted += parts.length;
    }
    if (deleted === 0) throw new DocumentNotFoundError(id);
  }
}

function documentInfo(record: MemoryRecord): DocumentInfo | undefined {
  const info = partInfo(record.tags);
  if (info === undefined || record.source !== 'document') return undefined;
  return {
    id: info.documentId,
    name: info.name,
    type: info.type,
    parts: info.parts,
    space: record.space,
    createdAt: record.createdAt,
  };
}
