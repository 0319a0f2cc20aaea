import type { OllamaObject } from '../backend/backend.js';
import { BadRequestError } from './errors.js';

/** The body as a JSON object, or a 400 that says what was wrong. */
export function requireObject(body: unknown): OllamaObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError('request body must be a JSON object');
  }
  return body as OllamaObject;
}

/** The `model` field, required and non-empty. */
export function requireModel(body: OllamaObject): string {
  const { model } = body;
  if (model === undefined || model === null || model === '') throw new BadRequestError('model is required');
  if (typeof model !== 'string') throw new BadRequestError('model must be a string');
  return model;
}

/** Checks an optional field's type. */
export function optional(
  body: OllamaObject,
  field: string,
  type: 'string' | 'boolean' | 'number' | 'object',
): void {
  const value = body[field];
  if (value === undefined || value === null) return;
  const ok = type === 'object' ? typeof value === 'object' && !Array.isArray(value) : typeof value === type;
  if (!ok) throw new BadRequestError(`${field} must be ${type === 'object' ? 'an object' : `a ${type}`}`);
}

/** A chat message list: an array of objects with a string role. */
export function requireMessages(body: OllamaObject, field = 'messages'): Array<Record<string, unknown>> {
  const messages = body[field];
  if (messages === undefined) return [];
  if (!Array.isArray(messages)) throw new BadRequestError(`${field} must be an array`);
  messages.forEach((message, index) => {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      throw new BadRequestError(`${field}[${index}] must be an object`);
    }
    if (typeof (message as { role?: unknown }).role !== 'string') {
      throw new BadRequestError(`${field}[${index}].role must be a string`);
    }
  });
  return messages as Array<Record<string, unknown>>;
}

/** Embedding input: a string or an array of strings. */
export function requireInput(body: OllamaObject, field = 'input'): string[] {
  const input = body[field];
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((item) => typeof item === 'string')) return input as string[];
  throw new BadRequestError(`${field} must be a string or an array of strings`);
}
