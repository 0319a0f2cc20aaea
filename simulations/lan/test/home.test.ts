import { describe, expect, it } from 'vitest';
import { validateHome } from '../src/home.js';
import { DEFAULT_HOME, homeOfSize, hostAddress, SCENARIOS } from '../src/index.js';

describe('homes', () => {
  it('should start a home of n with the default three hosts', () => {
    const home = homeOfSize(20);
    expect(home).toHaveLength(20);
    expect(home.slice(0, 3).map((h) => h.name)).toEqual(DEFAULT_HOME.map((h) => h.name));
    expect(new Set(home.map((h) => h.name)).size).toBe(20);
    expect(() => validateHome(home)).not.toThrow();
    expect(home.slice(3).every((h) => h.profile === 'cpu' && h.models.length === 1)).toBe(true);
  });

  it('should keep addresses inside 198.18.0.0/15', () => {
    expect(hostAddress(0)).toBe('198.18.0.10');
    expect(hostAddress(199)).toBe('198.18.0.209');
    expect(() => hostAddress(200)).toThrow(RangeError);
  });

  it('should refuse names that cannot be namespace names', () => {
    expect(() => validateHome([{ name: 'Kitchen!', profile: 'cpu', models: [] }])).toThrow(RangeError);
    expect(() => validateHome([{ name: 'a-very-long-hostname', profile: 'cpu', models: [] }])).toThrow(
      RangeError,
    );
    const twice = { name: 'kitchen', profile: 'cpu' as const, models: [] };
    expect(() => validateHome([twice, twice])).toThrow(/twice/);
  });

  it('should give every scenario a unique name and a bound', () => {
    expect(new Set(SCENARIOS.map((s) => s.name)).size).toBe(SCENARIOS.length);
    for (const s of SCENARIOS) expect(s.timeoutMs({})).toBeGreaterThan(0);
  });
});
