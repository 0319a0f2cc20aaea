/**
 * Canonical JSON as in RFC 8785 (JCS) for the values the protocol uses: object keys sorted by
 * UTF-16 code units, no whitespace, numbers and strings as ECMAScript's JSON.stringify writes them.
 */

/** Serialises a JSON value canonically; throws TypeError for values JSON cannot hold. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('non-finite number in canonical JSON');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  throw new TypeError(`${typeof value} cannot appear in canonical JSON`);
}
