/**
 * The home's documents: PDF, Markdown and text files imported into a space (or private memory)
 * as searchable parts, found again with a citation.
 *
 * @example
 * ```ts
 * const library = new DocumentLibrary({ memory, logger });
 * await library.import({ name: 'boiler.pdf', mediaType: 'application/pdf', data, space: 'home' });
 * const [hit] = await searchDocuments(memory, 'when to bleed the radiators', { spaces: ['home'] });
 * console.log(hit?.citation); // [boiler.pdf, part 2]
 * ```
 */

export { chunkText } from './chunk-text.js';
export {
  CHUNK_OVERLAP_CHARS,
  DEFAULT_DOCUMENT_HITS,
  MAX_CHUNK_CHARS,
  MAX_DOCUMENT_BYTES,
  MAX_DOCUMENT_HITS,
  MAX_DOCUMENT_TEXT_CHARS,
} from './constants.js';
export {
  type DocumentInfo,
  DocumentLibrary,
  type DocumentLibraryComponents,
  type DocumentPage,
  type DocumentUpload,
} from './document-library.js';
export {
  type DocumentHit,
  type DocumentSearchOptions,
  documentHit,
  searchDocuments,
} from './document-search.js';
export { citationOf, type PartInfo, partInfo } from './document-tags.js';
export {
  DocumentNotFoundError,
  DocumentTooLargeError,
  EmptyDocumentError,
  EncryptedDocumentError,
  UnreadableDocumentError,
  UnsupportedDocumentTypeError,
} from './errors.js';
export type { DocumentType } from './extract-text.js';
