import { describe, expect, it } from 'vitest';
import { createJoinCode, generateMeshKey, JoinCodeError, parseJoinCode } from '../src/mesh/index.js';

describe('join codes', () => {
  it('should round-trip a mesh key, whatever the case and dashes', () => {
    const key = generateMeshKey();
    const code = createJoinCode(key);
    expect(code).toMatch(/^ALRC-/);
    expect(Buffer.from(parseJoinCode(code)).equals(Buffer.from(key))).toBe(true);
    expect(Buffer.from(parseJoinCode(code.toLowerCase().replace(/-/g, ' '))).equals(Buffer.from(key))).toBe(
      true,
    );
  });

  it('should refuse a typo with a clear checksum error', () => {
    const code = createJoinCode(generateMeshKey());
    const at = 7;
    const typo = code[at] === 'A' ? 'B' : 'A';
    expect(() => parseJoinCode(`${code.slice(0, at)}${typo}${code.slice(at + 1)}`)).toThrow(/checksum/);
    expect(() => parseJoinCode('HELLO')).toThrow(JoinCodeError);
  });
});
