/**
 * Building blocks of the contract's schemas. Responses are closed objects (a field the node sends
 * must be in the contract, or the contract test fails); requests stay open, as Ollama's decoder
 * is, and say in a `description` what belongs in each field, since that is what a 400 quotes.
 */
import {
  type Static,
  type TLiteral,
  type TObject,
  type TProperties,
  type TSchema,
  type TUnion,
  Type,
} from '@sinclair/typebox';

/** Text the node stores (chat messages, prompts, names): PostgreSQL text cannot hold U+0000. */
export const STORABLE_TEXT_PATTERN = '^[^\\u0000]*$';

/** A response object: every field the node sends is declared. */
export const Closed = <T extends TProperties>(properties: T, description?: string): TObject<T> =>
  Type.Object(properties, {
    additionalProperties: false,
    ...(description === undefined ? {} : { description }),
  });

/** A value or null. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A time as ISO 8601 text, as `Date.toISOString()` writes it. */
export const IsoTime = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$',
  description: 'an ISO 8601 time',
});

/**
 * A string a request must give: not empty, bounded, without NUL (PostgreSQL text cannot hold it,
 * and what the UI sends is stored).
 */
export const RequiredText = (max: number) =>
  Type.String({
    minLength: 1,
    maxLength: max,
    pattern: STORABLE_TEXT_PATTERN,
    description: `a non-empty string of at most ${max} characters without NUL (\\u0000)`,
  });

/** Any text a request may give that the node stores: no NUL. */
export const StoredText = Type.String({
  pattern: STORABLE_TEXT_PATTERN,
  description: 'a string without NUL (\\u0000) characters',
});

/** One of the given literals, described as such in a 400. */
export function OneOf<const T extends readonly string[]>(
  values: T,
): TUnion<{ -readonly [K in keyof T]: TLiteral<T[K]> }> {
  const description = `one of ${values.map((value) => JSON.stringify(value)).join(', ')}`;
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    { description },
  ) as never;
}

/** `{ ok: true }`: a write that has nothing else to say. */
export const Ok = Closed({ ok: Type.Literal(true) });
export type Ok = Static<typeof Ok>;

/** True when two types are the same; used to pin a schema to a type declared elsewhere. */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
