/**
 * The text of an imported file: PDF through unpdf (PDF.js), Markdown and plain text as UTF-8.
 * The type comes from the Content-Type, or from the name's extension when the type is generic.
 */
import { extractText, getDocumentProxy } from 'unpdf';
import { MAX_DOCUMENT_BYTES, MAX_DOCUMENT_TEXT_CHARS } from './constants.js';
import {
  DocumentTooLargeError,
  EmptyDocumentError,
  EncryptedDocumentError,
  UnreadableDocumentError,
  UnsupportedDocumentTypeError,
} from './errors.js';

/** The kinds of document this node reads. */
export type DocumentType = 'pdf' | 'markdown' | 'text';

const BY_MEDIA_TYPE: Record<string, DocumentType> = {
  'application/pdf': 'pdf',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/plain': 'text',
};
const BY_EXTENSION: Record<string, DocumentType> = {
  pdf: 'pdf',
  md: 'markdown',
  markdown: 'markdown',
  txt: 'text',
  text: 'text',
};
/** Types a client sends when it does not know better; the name's extension decides then. */
const GENERIC = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/** The document type of a file from its media type and name; throws UnsupportedDocumentTypeError. */
export function documentTypeOf(mediaType: string | undefined, name: string): DocumentType {
  const media = (mediaType ?? '').split(';')[0]!.trim().toLowerCase();
  const byMedia = BY_MEDIA_TYPE[media];
  if (byMedia !== undefined) return byMedia;
  const extension = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? '';
  const byName = BY_EXTENSION[extension];
  if (GENERIC.has(media) && byName !== undefined) return byName;
  throw new UnsupportedDocumentTypeError(
    `cannot import ${media === '' ? 'a file of no type' : `"${media.slice(0, 100)}"`}: send a PDF (application/pdf), Markdown (text/markdown) or plain text (text/plain)`,
  );
}

/** The text of `data`, checked against the limits; throws the errors in errors.ts, never stores. */
export async function extractDocumentText(data: Uint8Array, type: DocumentType): Promise<string> {
  if (data.byteLength > MAX_DOCUMENT_BYTES) {
    throw new DocumentTooLargeError(`the file is larger than ${MAX_DOCUMENT_BYTES} bytes`);
  }
  if (data.byteLength === 0) throw new EmptyDocumentError('the file is empty');
  const raw = type === 'pdf' ? await pdfText(data) : utf8Text(data);
  // PostgreSQL text cannot hold NUL, and control characters only disturb embedding.
  const text = raw
    .replace(/\r\n?/g, '\n')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .trim();
  if (text === '') throw new EmptyDocumentError();
  if (text.length > MAX_DOCUMENT_TEXT_CHARS) {
    throw new DocumentTooLargeError(
      `the document holds ${text.length} characters of text, more than the ${MAX_DOCUMENT_TEXT_CHARS} one document may hold; split it`,
    );
  }
  return text;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function utf8Text(data: Uint8Array): string {
  try {
    return strictUtf8.decode(data);
  } catch (error) {
    throw new UnreadableDocumentError('the text is not valid UTF-8', { cause: error });
  }
}

async function pdfText(data: Uint8Array): Promise<string> {
  if (!startsWith(data, '%PDF-'))
    throw new UnreadableDocumentError('the file is not a PDF (no %PDF- header)');
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>> | undefined;
  try {
    // A copy: PDF.js takes ownership of the buffer it is given. verbosity 0 keeps its warnings off stdout.
    pdf = await getDocumentProxy(new Uint8Array(data), { verbosity: 0, isEvalSupported: false });
    const { text } = await extractText(pdf, { mergePages: false });
    return text.join('\n\n');
  } catch (error) {
    const name = (error as { name?: unknown }).name;
    if (name === 'PasswordException') throw new EncryptedDocumentError();
    throw new UnreadableDocumentError(
      `the PDF cannot be read: ${(error as Error).message ?? String(error)}`,
      {
        cause: error,
      },
    );
  } finally {
    await pdf?.destroy().catch(() => {});
  }
}

function startsWith(data: Uint8Array, prefix: string): boolean {
  // A few bytes of junk before the header are allowed by readers; 1 KiB is what PDF.js scans.
  const head = new TextDecoder('latin1').decode(data.subarray(0, 1024));
  return head.includes(prefix);
}
