/**
 * A tiny validation helper: a schema is a function that checks a decoded JSON value and returns it
 * typed, or throws ValidationError. Objects keep unknown fields (forward compatibility) and are
 * returned as the same object, so a signature over the received JSON can still be checked.
 */
import { ValidationError } from './errors.js';

/** Checks `value` at `path` and returns it typed. */
export type Schema<T> = (value: unknown, path: string) => T;

/** A string of bounded length. */
export function str(opts: { min?: number; max?: number; pattern?: RegExp } = {}): Schema<string> {
  const { min = 0, max = 1_000_000, pattern } = opts;
  return (value, path) => {
    if (typeof value !== 'string') throw new ValidationError(path, 'expected a string');
    if (value.length < min || value.length > max) {
      throw new ValidationError(path, `expected a string of ${min} to ${max} characters`);
    }
    if (pattern !== undefined && !pattern.test(value)) throw new ValidationError(path, 'bad format');
    return value;
  };
}

/** A finite number, optionally integer and bounded. */
export function num(opts: { int?: boolean; min?: number; max?: number } = {}): Schema<number> {
  const { int = false, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY } = opts;
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new ValidationError(path, 'expected a number');
    if (int && !Number.isSafeInteger(value)) throw new ValidationError(path, 'expected an integer');
    if (value < min || value > max) throw new ValidationError(path, `expected a number in [${min}, ${max}]`);
    return value;
  };
}

/** A non-negative safe integer: counts and byte sizes. */
export const count: Schema<number> = num({ int: true, min: 0 });

/** A boolean. */
export const bool: Schema<boolean> = (value, path) => {
  if (typeof value !== 'boolean') throw new ValidationError(path, 'expected a boolean');
  return value;
};

/** One of the given string literals. */
export function oneOf<const T extends string>(...values: T[]): Schema<T> {
  return (value, path) => {
    if (typeof value !== 'string' || !(values as string[]).includes(value)) {
      throw new ValidationError(path, `expected one of ${values.join(', ')}`);
    }
    return value as T;
  };
}

/** An array of bounded length whose items all match. */
export function arr<T>(item: Schema<T>, max = 10_000): Schema<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw new ValidationError(path, 'expected an array');
    if (value.length > max) throw new ValidationError(path, `expected at most ${max} items`);
    for (let i = 0; i < value.length; i++) item(value[i], `${path}[${i}]`);
    return value as T[];
  };
}

/** A plain JSON object (not null, not an array). */
export const plainObject: Schema<Record<string, unknown>> = (value, path) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(path, 'expected an object');
  }
  return value as Record<string, unknown>;
};

/** An object whose values all match, with bounded size. */
export function record<T>(item: Schema<T>, max = 10_000): Schema<Record<string, T>> {
  return (value, path) => {
    const o = plainObject(value, path);
    const keys = Object.keys(o);
    if (keys.length > max) throw new ValidationError(path, `expected at most ${max} entries`);
    for (const k of keys) item(o[k], `${path}.${k}`);
    return o as Record<string, T>;
  };
}

/** Marks a field optional: absent (undefined) passes. */
export interface Optional<T> {
  optional: Schema<T>;
}

/** An optional field of an object schema. */
export function opt<T>(schema: Schema<T>): Optional<T> {
  return { optional: schema };
}

type Shape = Record<string, Schema<unknown> | Optional<unknown>>;
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? never : K }[keyof S];
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? K : never }[keyof S];
type Out<S> = S extends Schema<infer T> ? T : S extends Optional<infer T> ? T : never;
/** The type an object schema returns. */
export type Infer<S extends Shape> = { [K in RequiredKeys<S>]: Out<S[K]> } & {
  [K in OptionalKeys<S>]?: Out<S[K]>;
};

/** An object with the given fields; unknown fields are kept and not checked. */
export function obj<S extends Shape>(shape: S): Schema<Infer<S>> {
  const entries = Object.entries(shape);
  return (value, path) => {
    const o = plainObject(value, path);
    for (const [key, field] of entries) {
      const v = Object.hasOwn(o, key) ? o[key] : undefined;
      if (typeof field === 'function') field(v, `${path}.${key}`);
      else if (v !== undefined) field.optional(v, `${path}.${key}`);
    }
    return o as Infer<S>;
  };
}
