import { describe, expect, it } from 'vitest';
import { MAX_CARD_MACS, ValidationError, validateNodeCard } from '../src/index.js';
import { sampleCard } from './fixtures.js';

const PEER = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA';

describe('card wake fields', () => {
  it('should accept a card with LAN MACs and its wake flags, and one without them', () => {
    const card = {
      ...sampleCard(PEER),
      macs: ['aa:bb:cc:dd:ee:ff'],
      wakeOnLan: true,
      preferredWhenOn: false,
    };
    expect(validateNodeCard(card)).toEqual(card);
    expect(validateNodeCard(sampleCard(PEER)).macs).toBeUndefined();
  });

  it('should refuse a malformed MAC, too many MACs and non-boolean flags', () => {
    const bad = [
      { macs: ['AA:BB:CC:DD:EE:FF'] },
      { macs: ['aa-bb-cc-dd-ee-ff'] },
      { macs: ['aa:bb:cc:dd:ee'] },
      { macs: 'aa:bb:cc:dd:ee:ff' },
      {
        macs: Array.from(
          { length: MAX_CARD_MACS + 1 },
          (_, i) => `aa:bb:cc:dd:ee:${i.toString(16).padStart(2, '0')}`,
        ),
      },
      { wakeOnLan: 'yes' },
      { preferredWhenOn: 1 },
    ];
    for (const fields of bad)
      expect(() => validateNodeCard({ ...sampleCard(PEER), ...fields })).toThrow(ValidationError);
  });
});
