/**
 * Go's base64.StdEncoding.Decode, which encoding/json uses for `[]byte` fields such as
 * api.ImageData: padding is required, CR and LF are skipped, and the first bad byte is reported
 * as `illegal base64 data at input byte N` (N counts the newlines too).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Go's CorruptInputError. */
export class Base64Error extends Error {
  override name = 'Base64Error';
  constructor(readonly offset: number) {
    super(`illegal base64 data at input byte ${offset}`);
  }
}

function isNewline(c: string | undefined): boolean {
  return c === '\n' || c === '\r';
}

/** The offset of the first error Go's decoder reports, or undefined when the text is valid. */
export function base64ErrorOffset(text: string): number | undefined {
  let si = 0;
  while (si < text.length) {
    let j = 0;
    for (; j < 4; j++) {
      if (si === text.length) {
        if (j === 0) return undefined;
        return si - j;
      }
      const c = text[si]!;
      si++;
      if (ALPHABET.includes(c)) continue;
      if (isNewline(c)) {
        j--;
        continue;
      }
      if (c !== '=') return si - 1;
      // Padding: only after two or three symbols, and then nothing but newlines may follow.
      if (j === 0 || j === 1) return si - 1;
      if (j === 2) {
        while (si < text.length && isNewline(text[si])) si++;
        if (si === text.length) return text.length;
        if (text[si] !== '=') return si - 1;
        si++;
      }
      while (si < text.length && isNewline(text[si])) si++;
      return si < text.length ? si : undefined;
    }
  }
  return undefined;
}

/** Decodes like Go, throwing Go's error for bad input. */
export function decodeBase64(text: string): Buffer {
  const offset = base64ErrorOffset(text);
  if (offset !== undefined) throw new Base64Error(offset);
  return Buffer.from(text.replace(/[\r\n]/g, ''), 'base64');
}
