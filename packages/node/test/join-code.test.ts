import { formatInvitationCode, JoinCodeError, LegacyJoinCodeError, parseInvitationCode } from '@allerac/mesh';
import { describe, expect, it } from 'vitest';

describe('invitation codes', () => {
  it('should round-trip an invitation, whatever the case, dashes and look-alikes', () => {
    const secret = Uint8Array.from({ length: 10 }, (_, i) => i * 25);
    const code = formatInvitationCode({ host: '192.168.1.23', port: 4002, secret });
    expect(code).toMatch(/^ALRC(-[0-9A-HJKMNP-TV-Z]{5}){6}$/);
    for (const typed of [
      code,
      code.toLowerCase().replace(/-/g, ' '),
      code.replace(/0/g, 'O').replace(/1/g, 'I'),
    ]) {
      const parsed = parseInvitationCode(typed);
      expect(parsed).toMatchObject({ host: '192.168.1.23', port: 4002 });
      expect(Buffer.from(parsed.secret).equals(Buffer.from(secret))).toBe(true);
    }
  });

  it('should refuse a typo, a wrong length and an old-style key code, each with its reason', () => {
    const code = formatInvitationCode({ host: '10.0.0.2', port: 4002, secret: new Uint8Array(10) });
    const at = 7;
    const typo = code[at] === 'A' ? 'B' : 'A';
    expect(() => parseInvitationCode(`${code.slice(0, at)}${typo}${code.slice(at + 1)}`)).toThrow(/checksum/);
    expect(() => parseInvitationCode('HELLO')).toThrow(JoinCodeError);
    expect(() => parseInvitationCode(`${code}X`)).toThrow(/30 characters/);
    // The first format: the 32-byte key and a CRC-32, 58 characters.
    const legacy = `ALRC-${'0123456789ABCDEFGHJKMNPQRSTVWXYZ0123456789ABCDEFGHJKMNPQRS'.match(/.{1,5}/g)?.join('-')}`;
    expect(() => parseInvitationCode(legacy)).toThrow(LegacyJoinCodeError);
    expect(() => parseInvitationCode(legacy)).toThrow(/old-style.*fresh code/);
  });
});
