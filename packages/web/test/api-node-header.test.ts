import { describe, expect, it } from 'vitest';
import { nodeFromHeader } from '../src/api.js';

describe('the X-Allerac-Node header in the chat client', () => {
  it('should decode a percent-encoded unicode name, as the node sends it', () => {
    const header = 'Sala%20de%20Estar%20%F0%9F%9B%8B%EF%B8%8F%20%E5%AE%A2%E5%8E%85';
    expect(nodeFromHeader(header)).toBe('Sala de Estar 🛋️ 客厅');
    expect(nodeFromHeader('%D0%93%D0%BE%D1%81%D1%82%D0%B8%D0%BD%D0%B0%D1%8F')).toBe('Гостиная');
  });

  it('should keep a plain name, a missing header, and a malformed one as they are', () => {
    expect(nodeFromHeader('office-pc')).toBe('office-pc');
    expect(nodeFromHeader(null)).toBeNull();
    expect(nodeFromHeader('100%')).toBe('100%');
  });
});
