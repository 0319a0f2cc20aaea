/**
 * fast-check arbitraries for HTTP requests: JSON bodies drawn from a route's JSON schema (mostly
 * valid, with a wrong value at any node now and then), generic bodies for routes without one,
 * query strings and path parameters with the inputs that have broken servers before.
 */
import fc from 'fast-check';

/** JSON text that JSON.stringify cannot produce (1e400, a nesting past any limit), kept verbatim. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** Serializes a generated value, writing RawJson verbatim. */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}:${toJsonText(item)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The subset of JSON Schema route schemas use (what TypeBox emits). */
export interface JsonSchema {
  type?: string;
  anyOf?: JsonSchema[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMaximum?: number;
}

/** Strings that broke servers before: NUL, bad escapes, odd Unicode, a date past year 9999. */
const NASTY_STRINGS = [
  '',
  '\u0000',
  'a\u0000b',
  '%00',
  '%zz',
  '%25zz',
  '../../etc/passwd',
  '\uD800',
  '\u202E',
  '99999-01-01',
  '-000001-01-01',
  'x'.repeat(5_000),
];

/** Numbers JSON can spell but not every parser keeps: out of range, negative zero, huge. */
const NASTY_NUMBERS = [
  new RawJson('1e400'),
  new RawJson('-1e400'),
  new RawJson('1e-400'),
  new RawJson('-0'),
  2 ** 53 + 1,
  -(2 ** 63),
  1.5,
];

/** A JSON nesting deep enough to overflow a recursive serializer. */
const DEEP = new RawJson(`${'['.repeat(6_000)}${']'.repeat(6_000)}`);

const nastyString = fc.constantFrom(...NASTY_STRINGS);

/** Percent-encodes any string's UTF-8 (a lone surrogate becomes U+FFFD; encodeURIComponent throws). */
export function percentEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}
const nastyNumber = fc.constantFrom(...NASTY_NUMBERS);

/** Any JSON value, with the nasty ones well represented. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 2, arbitrary: nastyString },
  { weight: 2, arbitrary: nastyNumber },
  { weight: 1, arbitrary: fc.constant(DEEP) },
  { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 3 }) },
);

/** Values for fields whose real range matters to the test node (a known model, a short answer). */
export interface FieldHints {
  [field: string]: fc.Arbitrary<unknown>;
}

/**
 * Values for `schema`: valid ones most of the time, and at every node, one time in `1/wrongOdds`,
 * something of the wrong type or a nasty value.
 */
export function fromSchema(schema: JsonSchema, hints: FieldHints = {}, wrongOdds = 8): fc.Arbitrary<unknown> {
  const build = (node: JsonSchema, depth: number, name?: string): fc.Arbitrary<unknown> => {
    const valid = (name !== undefined ? hints[name] : undefined) ?? validFor(node, depth, name);
    return fc.oneof({ weight: wrongOdds - 1, arbitrary: valid }, { weight: 1, arbitrary: junk });
  };
  const validFor = (node: JsonSchema, depth: number, name?: string): fc.Arbitrary<unknown> => {
    if (node.anyOf !== undefined)
      return fc.oneof(...node.anyOf.map((variant) => validFor(variant, depth, name)));
    if (node.const !== undefined) return fc.constant(node.const);
    switch (node.type) {
      case 'null':
        return fc.constant(null);
      case 'boolean':
        return fc.boolean();
      case 'string':
        return node.pattern?.includes('A-Za-z0-9+/')
          ? fc.base64String({ maxLength: 64 })
          : fc.string({ maxLength: 24 });
      case 'integer':
        return fc.integer({ min: Math.max(node.minimum ?? -1_000, -1_000), max: 1_000 });
      case 'number':
        return fc.oneof(
          fc.integer({ min: -1_000, max: 1_000 }),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
        );
      case 'array':
        return depth > 4 ? fc.constant([]) : fc.array(build(node.items ?? {}, depth + 1), { maxLength: 3 });
      case 'object': {
        if (depth > 4) return fc.constant({});
        const properties = node.properties ?? {};
        const model = Object.fromEntries(
          Object.entries(properties).map(([key, property]) => [key, build(property, depth + 1, key)]),
        );
        const known = fc.record(model, {
          requiredKeys: (node.required ?? []).filter((key) => key in properties),
        });
        const extra = fc.dictionary(fc.string({ maxLength: 8 }), junk, { maxKeys: 2 });
        return fc.tuple(known, extra).map(([fields, more]) => ({ ...more, ...fields }));
      }
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  };
  // The root stays an object most of the time, so that requests get past the first check.
  return fc.oneof({ weight: 12, arbitrary: validFor(schema, 0) }, { weight: 1, arbitrary: junk });
}

/**
 * Bodies for routes without a schema: objects of the field names the node's routes read, with
 * any values. Names that would make a handler write files where the test does not own them
 * (`dir`, `file`, `passphraseFile`) or reach beyond loopback (`source`) are left out.
 */
export function genericBody(fields: readonly string[]): fc.Arbitrary<unknown> {
  const value = fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
    { weight: 2, arbitrary: junk },
    { weight: 1, arbitrary: fc.integer({ min: -5, max: 50 }) },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }) },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
    },
  );
  return fc.oneof(
    { weight: 8, arbitrary: fc.dictionary(fc.constantFrom(...fields), value, { maxKeys: 5 }) },
    { weight: 1, arbitrary: junk },
  );
}

/** Query strings: known keys with nasty values, repeated keys, raw bad escapes. */
export function queryString(keys: readonly string[]): fc.Arbitrary<string> {
  const value = fc.oneof(
    fc.string({ maxLength: 12 }).map(percentEncode),
    nastyString.map(percentEncode),
    fc.constantFrom(
      '-1e400',
      '1e400',
      '1.5',
      '-1',
      '0',
      '99999999999999999999',
      '2020-01-01',
      '%zz',
      '%00',
      '',
    ),
  );
  const pair = fc.tuple(fc.constantFrom(...keys), value).map(([key, item]) => `${key}=${item}`);
  return fc
    .array(pair, { maxLength: 4 })
    .chain((pairs) =>
      // A repeated key: the same parameter twice.
      pairs.length > 0 ? fc.constantFrom(pairs, [...pairs, pairs[0]!]) : fc.constant(pairs),
    )
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.join('&')}`));
}

/** A path with each `:param` (and `*`) filled with an ordinary or a nasty segment. */
export function concretePath(pattern: string): fc.Arbitrary<string> {
  const holes = pattern.match(/:[A-Za-z0-9_]+|\*/g) ?? [];
  const segment = fc.oneof(
    fc.string({ minLength: 1, maxLength: 12 }).map(percentEncode),
    fc.constantFrom('%25zz', '%zz', '%00', 'a%2Fb', '..', '%2e%2e', 'x'.repeat(3_000), '%E2%80%AE', '%C0%AF'),
  );
  return fc.array(segment, { minLength: holes.length, maxLength: holes.length }).map((values) => {
    let index = 0;
    return pattern.replace(/:[A-Za-z0-9_]+|\*/g, () => values[index++] ?? 'x');
  });
}
