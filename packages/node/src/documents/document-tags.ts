/**
 * A document part is a memory (source `document`) whose tags say which document it belongs to:
 * `document`, `document:<id>`, `part:<n>` (from 1), `parts:<total>`, `name:<name>`, `type:<type>`.
 * Tags travel with the memory to every peer of its space, so each peer can cite it.
 */
import { DOCUMENT_TAG, MAX_DOCUMENT_NAME_CHARS } from './constants.js';
import type { DocumentType } from './extract-text.js';

/** What a part's tags say about it. */
export interface PartInfo {
  documentId: string;
  name: string;
  type: DocumentType;
  /** 1-based. */
  part: number;
  parts: number;
}

/** The tags of one part. */
export function partTags(info: PartInfo): string[] {
  return [
    DOCUMENT_TAG,
    `document:${info.documentId}`,
    `part:${info.part}`,
    `parts:${info.parts}`,
    `name:${info.name}`,
    `type:${info.type}`,
  ];
}

/** The tag that selects every part of one document. */
export const documentIdTag = (id: string): string => `document:${id}`;

/** The part a memory's tags describe, or undefined when they do not describe one. */
export function partInfo(tags: readonly string[]): PartInfo | undefined {
  if (!tags.includes(DOCUMENT_TAG)) return undefined;
  const value = (prefix: string) => tags.find((t) => t.startsWith(prefix))?.slice(prefix.length);
  const documentId = value('document:');
  const part = Number(value('part:'));
  const parts = Number(value('parts:'));
  const type = value('type:');
  if (documentId === undefined || !Number.isInteger(part) || !Number.isInteger(parts)) return undefined;
  return {
    documentId,
    name: value('name:') ?? documentId,
    type: type === 'pdf' || type === 'markdown' ? type : 'text',
    part,
    parts,
  };
}

/** How a chat or a tool cites a part: `[name, part N]`. */
export const citationOf = (info: Pick<PartInfo, 'name' | 'part'>): string =>
  `[${info.name}, part ${info.part}]`;

/** A file name as a document's name: no directories, no control characters, short enough for its tag. */
export function documentName(raw: string): string {
  const base = raw.split(/[\\/]/).pop() ?? '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  let name = '';
  for (const char of clean) {
    if (name.length + char.length > MAX_DOCUMENT_NAME_CHARS) break;
    name += char;
  }
  return name.trim();
}
