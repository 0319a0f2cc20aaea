/**
 * Request validation failures as the API's own 400s. A route schema (TypeBox, i.e. JSON Schema)
 * that a request fails becomes one clear sentence naming the field, such as
 * `messages[0].images must be an array` (Ollama's `{"error"}`, OpenAI's `{"error":{message,
 * type, param, code}}` once errors.ts renders `param`). Also the framework's own refusals of a
 * URL it cannot decode, which would otherwise leave in Fastify's shape.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BadRequestError, errorBody, flavorOf } from './errors.js';

/** The request failed its route's schema. */
export class RequestValidationError extends BadRequestError {
  override name = 'RequestValidationError';
  constructor(
    message: string,
    /** The field at fault (`messages[0].role`), '' for the whole part. */
    readonly param: string,
    /** OpenAI's codes: invalid_type, missing_required_parameter, invalid_value. */
    code: string,
  ) {
    super(message, code);
  }
}

/** What failed: where, and what was expected there. */
interface Problem {
  path: string;
  expected: string;
  kind: 'invalid_type' | 'missing_required_parameter' | 'invalid_value';
}

/** The subset of JSON Schema that route schemas use (what TypeBox emits). */
interface Schema {
  type?: string;
  anyOf?: Schema[];
  const?: unknown;
  description?: string;
  properties?: Record<string, Schema>;
  patternProperties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  required?: string[];
  items?: Schema;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

const PART_NAMES: Record<string, string> = {
  body: 'request body',
  querystring: 'query string',
  params: 'path',
  headers: 'headers',
};

/** Explains why `value` fails `schema`, as the error a client sees. */
export function schemaFailure(schema: unknown, value: unknown, part: string): RequestValidationError {
  const problem =
    part === 'body' && !isPlainObject(value)
      ? { path: '', expected: 'a JSON object', kind: 'invalid_type' as const }
      : (explain(schema as Schema, value, '') ?? {
          path: '',
          expected: 'valid',
          kind: 'invalid_value' as const,
        });
  const subject = problem.path === '' ? (PART_NAMES[part] ?? part) : problem.path;
  return new RequestValidationError(`${subject} must be ${problem.expected}`, problem.path, problem.kind);
}

/**
 * The first problem of `value` against `schema`, or undefined when it conforms. A node with a
 * `description` reports that description rather than the detail below it: it is the author's
 * name for what belongs there. A union without one gives the detail of the variant of the
 * value's own JSON type (`messages must be an array`, not `... or null`).
 */
function explain(schema: Schema, value: unknown, path: string): Problem | undefined {
  if (schema.anyOf !== undefined) return explainUnion(schema, schema.anyOf, value, path);
  const inner = explainInner(schema, value, path);
  if (inner === undefined || schema.description === undefined) return inner;
  return { path, expected: schema.description, kind: inner.kind };
}

function explainUnion(schema: Schema, variants: Schema[], value: unknown, path: string): Problem | undefined {
  // Each variant once: a 30 MB image string is not matched against its pattern again and again.
  const problems = variants.map((variant) => explain(variant, value, path));
  if (problems.includes(undefined)) return undefined;
  const sameKind = variants.flatMap((variant, index) =>
    variant.const === undefined && kindMatches(variant, value) ? [problems[index]] : [],
  );
  if (sameKind.length === 1 && schema.description === undefined) return sameKind[0];
  return { path, expected: describe(schema), kind: sameKind.length === 0 ? 'invalid_type' : 'invalid_value' };
}

function explainInner(schema: Schema, value: unknown, path: string): Problem | undefined {
  const fail = (kind: Problem['kind'] = 'invalid_type'): Problem => ({
    path,
    expected: describe(schema),
    kind,
  });
  if (schema.const !== undefined) return value === schema.const ? undefined : fail('invalid_value');
  switch (schema.type) {
    case 'null':
      return value === null ? undefined : fail();
    case 'boolean':
      return typeof value === 'boolean' ? undefined : fail();
    case 'string':
      if (typeof value !== 'string') return fail();
      if (schema.minLength !== undefined && value.length < schema.minLength) return fail('invalid_value');
      if (schema.maxLength !== undefined && value.length > schema.maxLength) return fail('invalid_value');
      if (schema.pattern !== undefined && !regExp(schema.pattern).test(value)) return fail('invalid_value');
      return undefined;
    case 'number':
    case 'integer': {
      const ok = schema.type === 'integer' ? Number.isInteger(value) : Number.isFinite(value);
      if (!ok) return fail();
      return inRange(schema, value as number) ? undefined : fail('invalid_value');
    }
    case 'array':
      if (!Array.isArray(value)) return fail();
      if (schema.minItems !== undefined && value.length < schema.minItems) return fail('invalid_value');
      if (schema.maxItems !== undefined && value.length > schema.maxItems) return fail('invalid_value');
      if (schema.items === undefined) return undefined;
      for (const [index, item] of value.entries()) {
        const problem = explain(schema.items, item, `${path}[${index}]`);
        if (problem !== undefined) return problem;
      }
      return undefined;
    case 'object':
      return isPlainObject(value) ? explainObject(schema, value, path) : fail();
    default:
      return undefined;
  }
}

function explainObject(schema: Schema, value: Record<string, unknown>, path: string): Problem | undefined {
  const at = (key: string) => (path === '' ? key : `${path}.${key}`);
  for (const key of schema.required ?? []) {
    if (value[key] === undefined) {
      const property = schema.properties?.[key] ?? {};
      return { path: at(key), expected: describe(property), kind: 'missing_required_parameter' };
    }
  }
  for (const [key, property] of Object.entries(schema.properties ?? {})) {
    if (!Object.hasOwn(value, key) || value[key] === undefined) continue;
    const problem = explain(property, value[key], at(key));
    if (problem !== undefined) return problem;
  }
  for (const [pattern, property] of Object.entries(schema.patternProperties ?? {})) {
    const matcher = regExp(pattern);
    for (const [key, item] of Object.entries(value)) {
      if (!matcher.test(key)) continue;
      const problem = explain(property, item, at(key));
      if (problem !== undefined) return problem;
    }
  }
  if (schema.additionalProperties === false) {
    const patterns = Object.keys(schema.patternProperties ?? {}).map(regExp);
    const unknown = Object.keys(value).find(
      (key) => !Object.hasOwn(schema.properties ?? {}, key) && !patterns.some((p) => p.test(key)),
    );
    if (unknown !== undefined) {
      return {
        path: at(unknown),
        expected: 'left out: it is not a field of this request',
        kind: 'invalid_value',
      };
    }
  }
  return undefined;
}

/** What a schema accepts, as the end of "x must be ...". */
function describe(schema: Schema): string {
  if (schema.description !== undefined) return schema.description;
  if (schema.anyOf !== undefined) {
    const names = schema.anyOf.filter((variant) => variant.type !== 'null').map(describe);
    return names.length <= 2 ? names.join(' or ') : `one of ${names.join(', ')}`;
  }
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const range = rangeText(schema);
  switch (schema.type) {
    case 'string':
      return 'a string';
    case 'integer':
      return `an integer${range}`;
    case 'number':
      return `a number${range}`;
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'an array';
    case 'object':
      return 'an object';
    case 'null':
      return 'null';
    default:
      return 'a JSON value';
  }
}

function rangeText(schema: Schema): string {
  const low = schema.minimum ?? schema.exclusiveMinimum;
  const high = schema.maximum ?? schema.exclusiveMaximum;
  if (low !== undefined && high !== undefined) return ` from ${low} to ${high}`;
  if (low !== undefined) return ` of at least ${low}`;
  if (high !== undefined) return ` of at most ${high}`;
  return '';
}

function inRange(schema: Schema, value: number): boolean {
  if (schema.minimum !== undefined && value < schema.minimum) return false;
  if (schema.maximum !== undefined && value > schema.maximum) return false;
  if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) return false;
  if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) return false;
  return true;
}

/** Whether a value has the JSON type a (non-union) schema is about. */
function kindMatches(schema: Schema, value: unknown): boolean {
  switch (schema.type) {
    case 'null':
      return value === null;
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'number':
    case 'integer':
      return typeof value === 'number';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
    default:
      return schema.anyOf?.some((variant) => kindMatches(variant, value)) ?? false;
  }
}

const REGEXPS = new Map<string, RegExp>();

/** A schema's pattern compiled once (schemas are few and fixed). */
function regExp(pattern: string): RegExp {
  let compiled = REGEXPS.get(pattern);
  if (compiled === undefined) {
    compiled = new RegExp(pattern);
    REGEXPS.set(pattern, compiled);
  }
  return compiled;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fastify's codes for a request line it could not route: a bad percent-escape, a bad constraint. */
const BAD_URL_CODES = new Set(['FST_ERR_BAD_URL', 'FST_ERR_ASYNC_CONSTRAINT']);

/**
 * Fastify's `frameworkErrors` option: answers a URL Fastify cannot decode (`/api/%zz`) with a
 * 400 in the API's own error shape instead of Fastify's. To be passed to `Fastify({ ... })`.
 */
export function frameworkErrorHandler(
  error: Error & { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const path = request.url.split('?')[0] ?? '';
  const message = BAD_URL_CODES.has(error.code ?? '')
    ? `the path ${JSON.stringify(path.slice(0, 200))} is not a valid URL: a "%" must start a percent-escape such as %25`
    : 'bad request';
  void reply.status(400).send(errorBody(flavorOf(path), new BadRequestError(message)));
}
