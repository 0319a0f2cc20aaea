/** Why a document cannot be imported or found; http/errors.ts maps these to 4xx. */
import { InvalidInputError, NotFoundError, TooLargeError } from '../errors.js';

/** The file is neither PDF, Markdown nor plain text. */
export class UnsupportedDocumentTypeError extends InvalidInputError {
  override name = 'UnsupportedDocumentTypeError';
  constructor(message: string) {
    super(message, { code: 'unsupported_document_type' });
  }
}

/** The file claims a type it does not hold (a broken PDF, text that is not UTF-8). */
export class UnreadableDocumentError extends InvalidInputError {
  override name = 'UnreadableDocumentError';
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { code: 'document_unreadable', ...options });
  }
}

/** The PDF is encrypted: its text cannot be read without a password, and none is asked for. */
export class EncryptedDocumentError extends InvalidInputError {
  override name = 'EncryptedDocumentError';
  constructor() {
    super('the PDF is encrypted (password-protected); save an unprotected copy and import that', {
      code: 'document_encrypted',
    });
  }
}

/** The document holds no text to search (an empty file, or a PDF of scanned images). */
export class EmptyDocumentError extends InvalidInputError {
  override name = 'EmptyDocumentError';
  constructor(message = 'the document holds no text (a scanned PDF needs text recognition first)') {
    super(message, { code: 'document_empty' });
  }
}

/** The file or its text is larger than the documented limit. */
export class DocumentTooLargeError extends TooLargeError {
  override name = 'DocumentTooLargeError';
  constructor(message: string) {
    super(message, { code: 'document_too_large' });
  }
}

/** No document has that id (or, to this caller, may as well not). */
export class DocumentNotFoundError extends NotFoundError {
  override name = 'DocumentNotFoundError';
  constructor(readonly id: string) {
    super(`no document with id "${id.slice(0, 128)}"`, { code: 'document_not_found' });
  }
}
