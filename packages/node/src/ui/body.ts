import { BadRequestError } from '../http/errors.js';

/** The request body as an object, or a 400. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadRequestError('send a JSON object');
  return body as Record<string, unknown>;
}

/** A required non-empty string field, or a 400 naming it. */
export function stringField(body: Record<string, unknown>, name: string, max = 4096): string {
  const value = body[name];
  if (typeof value !== 'string' || value.length === 0)
    throw new BadRequestError(`"${name}" must be a non-empty string`);
  if (value.length > max) throw new BadRequestError(`"${name}" may have at most ${max} characters`);
  // What the UI sends is stored, and PostgreSQL text cannot hold U+0000.
  if (value.includes('\u0000'))
    throw new BadRequestError(`"${name}" must not contain NUL (\\u0000) characters`);
  return value;
}

/** An optional string field. */
export function optionalString(body: Record<string, unknown>, name: string, max = 4096): string | undefined {
  return body[name] === undefined || body[name] === null ? undefined : stringField(body, name, max);
}

/** The languages the UI ships. */
export const LANGUAGES = ['en', 'pt', 'es'] as const;

/** A supported language code, or a 400. */
export function languageField(body: Record<string, unknown>, name = 'language'): string | undefined {
  const value = optionalString(body, name, 8);
  if (value !== undefined && !(LANGUAGES as readonly string[]).includes(value))
    throw new BadRequestError(`"${name}" must be one of ${LANGUAGES.join(', ')}`);
  return value;
}
