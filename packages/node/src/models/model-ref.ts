/**
 * A model name split as Ollama splits it (types/model/name.go ParseName): `[host/][namespace/]model[:tag]`,
 * with registry.ollama.ai, library and latest filled in, and its short form as /api/tags shows it.
 */
import { InvalidInputError } from '../errors.js';
import type { ManifestName } from './models-dir.js';

const PART = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$/;
const HOST = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,349}$/;

/** A name that is not one Ollama accepts. */
export class InvalidModelNameError extends InvalidInputError {
  override name = 'InvalidModelNameError';
  constructor(readonly model: string) {
    super(`invalid model name "${model.slice(0, 200)}"`, { code: 'invalid_model_name' });
  }
}

/** Parses `name`; throws InvalidModelNameError. */
export function parseModelRef(name: string): ManifestName {
  const colon = name.lastIndexOf(':');
  const slash = name.lastIndexOf('/');
  const hasTag = colon > slash;
  const path = hasTag ? name.slice(0, colon) : name;
  const tag = hasTag ? name.slice(colon + 1) : 'latest';
  const parts = path.split('/');
  const model = parts.pop() ?? '';
  const namespace = parts.pop() ?? 'library';
  const host = parts.pop() ?? 'registry.ollama.ai';
  const ref = { host, namespace, model, tag };
  if (
    parts.length > 0 ||
    !HOST.test(host) ||
    host.includes('..') ||
    !PART.test(namespace) ||
    !PART.test(model) ||
    !TAG.test(tag)
  ) {
    throw new InvalidModelNameError(name);
  }
  return ref;
}

/** The short name /api/tags shows: host and namespace dropped when they are the defaults. */
export function shortModelName(ref: ManifestName): string {
  if (ref.host === 'registry.ollama.ai' && ref.namespace === 'library') return `${ref.model}:${ref.tag}`;
  if (ref.host === 'registry.ollama.ai') return `${ref.namespace}/${ref.model}:${ref.tag}`;
  return `${ref.host}/${ref.namespace}/${ref.model}:${ref.tag}`;
}
