import { describe, expect, it } from 'vitest';
import {
  createSpaceDoc,
  epochOf,
  getMemory,
  historyContains,
  InvalidSpaceInputError,
  listMemories,
  loadSpaceDoc,
  MAX_MEMORY_TEXT_BYTES,
  mayShareWith,
  purgedCopy,
  putMemory,
  removeMemory,
  saveSpaceDoc,
  validatePolicy,
  validateSpaceName,
} from '../src/index.js';

const mem = (id: string, text: string) => ({
  id,
  text,
  tags: ['home'],
  source: 'user' as const,
  author: 'alice',
  createdAt: 1,
  updatedAt: 1,
});

describe('space documents', () => {
  it('should add, update, list and remove memories', () => {
    let doc = putMemory(createSpaceDoc(), mem('a', 'the filter was changed in March'));
    doc = putMemory(doc, { ...mem('a', 'the filter was changed in April'), updatedAt: 2 });
    doc = putMemory(doc, mem('b', 'bins go out on Tuesday'));
    expect(
      listMemories(doc)
        .map((m) => m.id)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(getMemory(doc, 'a')?.text).toBe('the filter was changed in April');
    doc = removeMemory(doc, 'a');
    expect(listMemories(doc).map((m) => m.id)).toEqual(['b']);
    expect(listMemories(loadSpaceDoc(saveSpaceDoc(doc)))).toEqual(listMemories(doc));
  });

  it('should refuse empty and oversized text and bad tags', () => {
    expect(() => putMemory(createSpaceDoc(), mem('a', '  '))).toThrow(InvalidSpaceInputError);
    expect(() => putMemory(createSpaceDoc(), mem('a', 'x'.repeat(MAX_MEMORY_TEXT_BYTES + 1)))).toThrow(
      /limit is 8192/,
    );
    expect(() => putMemory(createSpaceDoc(), { ...mem('a', 'ok'), tags: [''] })).toThrow(
      InvalidSpaceInputError,
    );
  });

  it('should purge the history so that removed text leaves no trace', () => {
    let doc = putMemory(createSpaceDoc(), mem('a', 'my bank PIN is 4711'));
    doc = putMemory(doc, mem('b', 'bins go out on Tuesday'));
    doc = removeMemory(doc, 'a');
    expect(historyContains(doc, 'my bank PIN is 4711')).toBe(true);
    const purged = purgedCopy(doc, 1);
    expect(epochOf(purged)).toBe(1);
    expect(historyContains(purged, 'my bank PIN is 4711')).toBe(false);
    expect(historyContains(loadSpaceDoc(saveSpaceDoc(purged)), 'my bank PIN is 4711')).toBe(false);
    expect(listMemories(purged).map((m) => m.text)).toEqual(['bins go out on Tuesday']);
  });

  it('should refuse garbage bytes as a document', () => {
    expect(() => loadSpaceDoc(new Uint8Array([1, 2, 3, 4]))).toThrow(InvalidSpaceInputError);
  });
});

describe('space policy', () => {
  it('should allow every paired peer for "all" and only the named ones otherwise', () => {
    expect(mayShareWith(validatePolicy('all'), 'bob')).toBe(true);
    const named = validatePolicy(['bob']);
    expect(mayShareWith(named, 'bob')).toBe(true);
    expect(mayShareWith(named, 'charlie')).toBe(false);
  });

  it('should refuse bad policies and space names', () => {
    expect(() => validatePolicy('some')).toThrow(InvalidSpaceInputError);
    expect(() => validatePolicy([1])).toThrow(InvalidSpaceInputError);
    expect(() => validateSpaceName('')).toThrow(InvalidSpaceInputError);
    expect(() => validateSpaceName('../etc')).toThrow(InvalidSpaceInputError);
    expect(validateSpaceName('household')).toBe('household');
  });
});
