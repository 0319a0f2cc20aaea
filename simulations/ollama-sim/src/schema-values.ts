/**
 * A value that matches a JSON schema, built deterministically: objects get every listed property,
 * arrays one item (or minItems, up to 3), enums and consts a listed value, numbers stay within
 * minimum/maximum. Enough for the simple schemas of structured outputs and tool parameters.
 */

/** Where the leaves come from. */
export interface ValueSource {
  /** A string for the property `key` ('' for array items and the root). */
  string(key: string): string;
  /** A non-negative integer. */
  integer(): number;
  boolean(): boolean;
}

/** Deeper schemas are cut short here, so a self-referencing schema cannot loop. */
const MAX_DEPTH = 8;

type Schema = Record<string, unknown>;

function isSchema(value: unknown): value is Schema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function typeOf(schema: Schema): string {
  const type = schema.type;
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) {
    const first = type.find((t) => typeof t === 'string' && t !== 'null');
    if (typeof first === 'string') return first;
    if (type.includes('null')) return 'null';
  }
  if (isSchema(schema.properties)) return 'object';
  if (schema.items !== undefined) return 'array';
  return 'string';
}

function bounded(value: number, schema: Schema): number {
  const min = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  const max = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  if (min !== undefined && max !== undefined && max >= min)
    return min + (value % (Math.floor(max - min) + 1));
  if (min !== undefined) return min + value;
  if (max !== undefined) return Math.min(value, max);
  return value;
}

/** A value matching `schema` for the property `key`. */
export function valueForSchema(schema: unknown, source: ValueSource, key = '', depth = 0): unknown {
  if (!isSchema(schema) || depth > MAX_DEPTH) return source.string(key);
  if (Object.hasOwn(schema, 'const')) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) {
    return schema.enum[source.integer() % schema.enum.length];
  }
  for (const union of ['anyOf', 'oneOf', 'allOf']) {
    const options = schema[union];
    if (Array.isArray(options) && options.length > 0)
      return valueForSchema(options[0], source, key, depth + 1);
  }
  switch (typeOf(schema)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const properties = isSchema(schema.properties) ? schema.properties : {};
      for (const [name, property] of Object.entries(properties)) {
        out[name] = valueForSchema(property, source, name, depth + 1);
      }
      return out;
    }
    case 'array': {
      const min =
        typeof schema.minItems === 'number' ? Math.min(3, Math.max(1, Math.floor(schema.minItems))) : 1;
      return Array.from({ length: min }, () => valueForSchema(schema.items, source, '', depth + 1));
    }
    case 'integer':
      return Math.floor(bounded(source.integer(), schema));
    case 'number':
      return bounded(source.integer(), schema);
    case 'boolean':
      return source.boolean();
    case 'null':
      return null;
    default:
      return source.string(key);
  }
}
