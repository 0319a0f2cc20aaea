/** Issue #14, "Brazilian Portuguese joins European Portuguese": the API's Language word list. */
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { LANGUAGES, Language } from '../src/contract/vocabulary.js';

describe('Language', () => {
  it('should accept pt-BR beside pt, which stays European Portuguese for settings stored before it', () => {
    expect(LANGUAGES).toEqual(['en', 'pt', 'pt-BR', 'es']);
    for (const code of ['en', 'pt', 'pt-BR', 'es']) expect(Value.Check(Language, code), code).toBe(true);
  });

  it('should refuse tags the UI does not ship, in any spelling', () => {
    for (const code of ['pt-PT', 'pt-br', 'pt_BR', 'br', 'fr', ''])
      expect(Value.Check(Language, code), code).toBe(false);
  });
});
