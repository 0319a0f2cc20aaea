/** Hashed bag-of-words embeddings: texts sharing words point the same way, unrelated ones are orthogonal. */
import { fnv1a } from './text.js';

const SIGN_SEED = 0x2545f491;

/** Lowercase word tokens (letters and digits of any script). */
export function wordTokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/**
 * Each word adds ±1 at a hashed index (the sign from a second hash, so collisions cancel
 * rather than pile up); the sum is L2-normalised. An empty text gives the zero vector, as
 * Ollama's normalisation of an all-zero vector does.
 */
export function embedText(text: string, dimensions: number): number[] {
  const size = Math.max(1, Math.floor(dimensions));
  const vector = new Array<number>(size).fill(0);
  for (const word of wordTokens(text)) {
    const index = fnv1a(word) % size;
    const sign = (fnv1a(word, SIGN_SEED) & 1) === 0 ? 1 : -1;
    vector[index] = vector[index]! + sign;
  }
  const norm = Math.sqrt(vector.reduce((sum, v) => sum + v * v, 0));
  const scale = 1 / Math.max(norm, 1e-12);
  return vector.map((v) => v * scale);
}
