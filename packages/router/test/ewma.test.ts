import { describe, expect, it } from 'vitest';
import { EWMA_ALPHA, Ewma, updateEwma } from '../src/index.js';

describe('Ewma', () => {
  it('should take the first sample as is and then move by alpha', () => {
    const ewma = new Ewma(0.5);
    expect(ewma.value).toBeUndefined();
    expect(ewma.update(10)).toBe(10);
    expect(ewma.update(20)).toBe(15);
    expect(ewma.update(20)).toBe(17.5);
    expect(ewma.count).toBe(3);
  });

  it('should ignore non-finite samples', () => {
    const ewma = new Ewma(0.5, 4);
    expect(ewma.update(Number.NaN)).toBe(4);
    expect(ewma.update(Number.POSITIVE_INFINITY)).toBe(4);
    expect(ewma.count).toBe(0);
  });

  it('should converge to a steady value', () => {
    const ewma = new Ewma();
    for (let i = 0; i < 50; i++) ewma.update(i === 0 ? 1000 : 60);
    expect(ewma.value).toBeCloseTo(60, 3);
  });

  it('should reject an alpha outside (0, 1]', () => {
    expect(() => new Ewma(0)).toThrowError(RangeError);
    expect(() => new Ewma(1.5)).toThrowError(RangeError);
  });

  it('should offer the same step as a pure function', () => {
    expect(updateEwma(undefined, 5)).toBe(5);
    expect(updateEwma(10, 20)).toBeCloseTo(10 + EWMA_ALPHA * 10);
    expect(updateEwma(10, Number.NaN)).toBe(10);
  });
});
