/**
 * Splits a document's text into parts to embed: paragraphs are kept whole where they fit, a
 * Markdown heading starts a new part, and each part repeats the end of the one before
 * (CHUNK_OVERLAP_CHARS) so a sentence cut at a boundary is still found whole.
 */
import { CHUNK_OVERLAP_CHARS, MAX_CHUNK_CHARS, MIN_CHUNK_CHARS } from './constants.js';

/** Bounds of the split; the defaults are in constants.ts. */
export interface ChunkOptions {
  maxChars?: number;
  overlapChars?: number;
  minChars?: number;
}

const HEADING = /^#{1,6}\s/;

/** The parts of `text`, each at most `maxChars` long, in order. */
export function chunkText(text: string, options: ChunkOptions = {}): string[] {
  const max = options.maxChars ?? MAX_CHUNK_CHARS;
  const overlap = Math.min(options.overlapChars ?? CHUNK_OVERLAP_CHARS, Math.floor(max / 4));
  const min = options.minChars ?? MIN_CHUNK_CHARS;
  // A piece plus the carried overlap and a separator must still fit.
  const pieceMax = max - overlap - 2;
  const pieces = blocks(text).flatMap((block) => splitLong(block, pieceMax));
  const chunks: string[] = [];
  let current = '';
  let fresh = false;
  const flush = (carry: boolean) => {
    if (fresh) chunks.push(current);
    current = carry ? tail(current, overlap) : '';
    fresh = false;
  };
  for (const piece of pieces) {
    const heading = HEADING.test(piece);
    if (fresh && heading && current.length >= min) flush(false);
    else if (fresh && current.length + 2 + piece.length > max) flush(true);
    current = current === '' ? piece : `${current}\n\n${piece}`;
    fresh = true;
  }
  flush(false);
  return chunks;
}

/** Paragraphs (blank-line separated), with each Markdown heading line a block of its own. */
function blocks(text: string): string[] {
  const out: string[] = [];
  for (const paragraph of text.split(/\n[ \t]*\n/)) {
    let lines: string[] = [];
    for (const line of paragraph.split('\n')) {
      if (HEADING.test(line)) {
        if (lines.length > 0) out.push(lines.join('\n'));
        lines = [];
      }
      lines.push(line.trimEnd());
    }
    if (lines.length > 0) out.push(lines.join('\n'));
  }
  return out.map((block) => block.trim()).filter((block) => block !== '');
}

/** A block longer than `max` cut at whitespace (or hard, in a run with none). */
function splitLong(block: string, max: number): string[] {
  const out: string[] = [];
  let rest = block;
  while (rest.length > max) {
    let cut = rest.lastIndexOf(' ', max);
    const newline = rest.lastIndexOf('\n', max);
    if (newline > cut) cut = newline;
    if (cut < max / 2) cut = max;
    out.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest !== '') out.push(rest);
  return out;
}

/** The last `n` characters of `text`, starting at a word. */
function tail(text: string, n: number): string {
  if (n <= 0) return '';
  if (text.length <= n) return text;
  const start = text.length - n;
  const space = text.indexOf(' ', start);
  return (space === -1 || space - start > n / 2 ? text.slice(start) : text.slice(space + 1)).trim();
}
