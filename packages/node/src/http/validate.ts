import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import { BadRequestError } from './errors.js';
import { RequestValidationError, schemaFailure } from './validation-errors.js';

/**
 * How deeply a JSON body may nest. JSON.parse takes any depth, but JSON.stringify (which forwards
 * a request to Ollama or a peer, or stores it) overflows the stack at a few thousand levels; no
 * real request nests beyond a few dozen (Ollama's own decoder stops at 10 000).
 */
export const MAX_JSON_DEPTH = 512;

/** The parts of a request a route schema may describe. */
export interface RouteSchemas {
  body?: TSchema;
  querystring?: TSchema;
  params?: TSchema;
}

/**
 * Route options that have Fastify validate a request against TypeBox schemas before the handler
 * runs, answering a mismatch with a 400 that names the field. Spread into the route's options,
 * beside its `config`. Types are checked as they are, never coerced ("7" is not a number), as
 * Ollama's decoder does.
 */
export function validatedBy<S extends RouteSchemas>(
  schemas: S,
): { schema: FastifySchema & S; validatorCompiler: FastifySchemaCompiler<FastifySchema> } {
  const validators = new Map(
    Object.entries(schemas).map(([part, schema]) => [part, compileValidator(part, schema as TSchema)]),
  );
  return {
    schema: schemas,
    validatorCompiler: ({ httpPart }) => validators.get(httpPart ?? '') ?? (() => true),
  };
}

function compileValidator(part: string, schema: TSchema) {
  const check = TypeCompiler.Compile(schema);
  return (data: unknown): true | { error: Error } => {
    // Fastify reports a validator that throws as a 500; every failure here is the request's.
    try {
      if (part === 'body') assertJsonDepth(data);
      if (check.Check(data)) return true;
      return { error: schemaFailure(schema, data, part) };
    } catch (error) {
      if (error instanceof BadRequestError) return { error };
      return { error: new RequestValidationError(`${part} could not be checked`, '', 'invalid_value') };
    }
  };
}

/** Throws a 400 when `value` nests deeper than `max` arrays and objects; iterative, so any depth is safe. */
export function assertJsonDepth(value: unknown, max = MAX_JSON_DEPTH): void {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > max) throw new BadRequestError(`the JSON body nests deeper than ${max} levels`);
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
}

/** The `model` field, required and non-empty (Ollama's own words when it is missing). */
export function requireModel(body: { model?: unknown }): string {
  const { model } = body;
  if (model === undefined || model === null || model === '') throw new BadRequestError('model is required');
  if (typeof model !== 'string') throw new BadRequestError('model must be a string');
  return model;
}
