/**
 * Decoding a parsed JSON value the way Go's encoding/json fills Ollama's request structs, so bad
 * input fails with Go's texts. Type mismatches become `json: cannot unmarshal <kind> into Go struct
 * field <Struct>.<path> of type <type>`: Struct is the innermost struct, path the JSON field names
 * from the root. The first mismatch is kept and decoding goes on, as Go's saveError does; an error
 * from a custom decoder (Go's UnmarshalJSON) stops at once, and a type error it raised gets the
 * outer path put in front, as addErrorContext does. Unknown fields are ignored, null leaves the zero
 * value, and field names match case-insensitively when no exact match exists.
 */
import { OllamaApiError } from './errors.js';

/** How one Go type decodes. */
export type GoType =
  | { kind: 'string' | 'bool' | 'int' | 'float' | 'any' }
  | { kind: 'slice'; elem: GoType; goName: string }
  | { kind: 'map'; elem: GoType; goName: string }
  | { kind: 'struct'; name: string; goName: string; fields: Record<string, GoType> }
  | { kind: 'custom'; decode: (value: unknown) => unknown };

/** Go's UnmarshalTypeError; `field` is the dotted path, `struct` the innermost struct's name. */
export class GoTypeError extends Error {
  override name = 'GoTypeError';
  constructor(
    readonly valueKind: string,
    readonly goType: string,
    readonly struct = '',
    readonly field = '',
  ) {
    super(
      struct !== '' || field !== ''
        ? `json: cannot unmarshal ${valueKind} into Go struct field ${struct}.${field} of type ${goType}`
        : `json: cannot unmarshal ${valueKind} into Go value of type ${goType}`,
    );
  }
}

/** The kind Go names in its error texts for a JSON value. */
export function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'number';
  return typeof value === 'object' ? 'object' : 'string';
}

export const GO_STRING: GoType = { kind: 'string' };
export const GO_BOOL: GoType = { kind: 'bool' };
export const GO_INT: GoType = { kind: 'int' };
export const GO_FLOAT: GoType = { kind: 'float' };
export const GO_ANY: GoType = { kind: 'any' };

/** A Go slice of `elem`, named like `[]api.Message` in errors. */
export function goSlice(elem: GoType, goName: string): GoType {
  return { kind: 'slice', elem, goName };
}

/** A Go struct; `name` is its bare name (`ChatRequest`), `goName` the qualified one (`api.ChatRequest`). */
export function goStruct(name: string, fields: Record<string, GoType>, pkg = 'api'): GoType {
  return { kind: 'struct', name, goName: `${pkg}.${name}`, fields };
}

interface Context {
  struct: string;
  path: string[];
  saved: GoTypeError | undefined;
}

/** The struct field a JSON key fills: the exact name, else a case-insensitive match, as Go does. */
function fieldFor(fields: Record<string, GoType>, key: string): string | undefined {
  if (Object.hasOwn(fields, key)) return key;
  const lower = key.toLowerCase();
  return Object.keys(fields).find((name) => name.toLowerCase() === lower);
}

function mismatch(ctx: Context, value: unknown, goType: string): undefined {
  ctx.saved ??= new GoTypeError(jsonKind(value), goType, ctx.struct, ctx.path.join('.'));
  return undefined;
}

function decodeValue(value: unknown, type: GoType, ctx: Context): unknown {
  if (value === null || value === undefined) return undefined;
  switch (type.kind) {
    case 'any':
      return value;
    case 'string':
      return typeof value === 'string' ? value : mismatch(ctx, value, 'string');
    case 'bool':
      return typeof value === 'boolean' ? value : mismatch(ctx, value, 'bool');
    case 'int':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (typeof value === 'number') {
        ctx.saved ??= new GoTypeError(`number ${value}`, 'int', ctx.struct, ctx.path.join('.'));
        return undefined;
      }
      return mismatch(ctx, value, 'int');
    case 'float':
      return typeof value === 'number' ? value : mismatch(ctx, value, 'float64');
    case 'slice':
      if (!Array.isArray(value)) return mismatch(ctx, value, type.goName);
      return value.map((item) => decodeValue(item, type.elem, ctx));
    case 'map': {
      if (jsonKind(value) !== 'object') return mismatch(ctx, value, type.goName);
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        out[key] = decodeValue(item, type.elem, ctx);
      }
      return out;
    }
    case 'struct': {
      if (jsonKind(value) !== 'object') return mismatch(ctx, value, type.goName);
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        const field = fieldFor(type.fields, key);
        if (field === undefined) continue;
        const outer = ctx.struct;
        ctx.struct = type.name;
        ctx.path.push(field);
        out[field] = decodeValue(item, type.fields[field]!, ctx);
        ctx.path.pop();
        ctx.struct = outer;
      }
      return out;
    }
    case 'custom':
      try {
        return type.decode(value);
      } catch (error) {
        if (error instanceof GoTypeError && (ctx.struct !== '' || ctx.path.length > 0)) {
          const field = [...ctx.path, ...(error.field === '' ? [] : [error.field])].join('.');
          throw new GoTypeError(error.valueKind, error.goType, ctx.struct, field);
        }
        throw error;
      }
  }
}

/**
 * Decodes `value` as `type`; throws a GoTypeError or the custom decoder's error. Struct fields come
 * out under their json tag whatever the case they were sent in.
 */
export function goDecode(value: unknown, type: GoType): unknown {
  const ctx: Context = { struct: '', path: [], saved: undefined };
  const out = decodeValue(value, type, ctx);
  if (ctx.saved !== undefined) throw ctx.saved;
  return out;
}

/** Decodes a request body, answering 400 with Go's text on any error (as ShouldBindJSON fails). */
export function decodeRequest(body: Record<string, unknown>, type: GoType): Record<string, unknown> {
  try {
    return goDecode(body, type) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof OllamaApiError) throw error;
    throw new OllamaApiError(400, error instanceof Error ? error.message : String(error));
  }
}
