/**
 * Ollama's model names (types/model/name.go): `[host/][namespace/]model[:tag]`, with the defaults
 * registry.ollama.ai, library and latest. A name is valid only when every part is.
 */

const DEFAULT_HOST = 'registry.ollama.ai';
const DEFAULT_NAMESPACE = 'library';
const DEFAULT_TAG = 'latest';
/** ParseNameBare's placeholder for a part that a separator promised but the text left empty. */
const MISSING = '!MISSING!';

/** The four parts of a name, defaults filled in. */
export interface ModelName {
  host: string;
  namespace: string;
  model: string;
  tag: string;
}

type PartKind = 'host' | 'namespace' | 'model' | 'tag';

function cutLast(text: string, separator: string): [string, string, boolean] {
  const at = text.lastIndexOf(separator);
  if (at < 0) return [text, '', false];
  return [text.slice(0, at) || MISSING, text.slice(at + separator.length) || MISSING, true];
}

/** ParseName: splits from the right and fills in the default host, namespace and tag. */
export function parseModelName(text: string): ModelName {
  let rest = text;
  let tag = '';
  if (rest.lastIndexOf(':') > rest.lastIndexOf('/')) [rest, tag] = cutLast(rest, ':');
  let model: string;
  let namespace = '';
  let host = '';
  let promised: boolean;
  [rest, model, promised] = cutLast(rest, '/');
  if (!promised) model = rest;
  else {
    [rest, namespace, promised] = cutLast(rest, '/');
    if (!promised) namespace = rest;
    else host = rest.includes('://') ? rest.slice(rest.indexOf('://') + 3) : rest;
  }
  return {
    host: host || DEFAULT_HOST,
    namespace: namespace || DEFAULT_NAMESPACE,
    model,
    tag: tag || DEFAULT_TAG,
  };
}

function isWordChar(c: string): boolean {
  return /^[A-Za-z0-9_]$/.test(c);
}

function isValidPart(kind: PartKind, part: string): boolean {
  const max = kind === 'host' ? 350 : 80;
  if (part.length < 1 || part.length > max) return false;
  for (let i = 0; i < part.length; i++) {
    const c = part[i]!;
    if (i === 0) {
      if (!isWordChar(c)) return false;
      continue;
    }
    if (c === '_' || c === '-') continue;
    if (c === '.') {
      if (kind === 'namespace') return false;
      continue;
    }
    if (c === ':') {
      if (kind !== 'host') return false;
      continue;
    }
    if (!isWordChar(c)) return false;
  }
  return true;
}

/** IsValid: every part within its length and alphabet. */
export function isValidModelName(name: ModelName): boolean {
  return (
    isValidPart('host', name.host) &&
    isValidPart('namespace', name.namespace) &&
    isValidPart('model', name.model) &&
    isValidPart('tag', name.tag)
  );
}

/** String(): the full name, as Ollama puts it in capability errors (`registry.ollama.ai/library/x:y`). */
export function fullModelName(name: ModelName): string {
  return `${name.host}/${name.namespace}/${name.model}:${name.tag}`;
}

/** DisplayShortest: without the default host and namespace. */
export function shortestModelName(name: ModelName): string {
  if (name.host.toLowerCase() !== DEFAULT_HOST)
    return `${name.host}/${name.namespace}/${name.model}:${name.tag}`;
  if (name.namespace.toLowerCase() !== DEFAULT_NAMESPACE)
    return `${name.namespace}/${name.model}:${name.tag}`;
  return `${name.model}:${name.tag}`;
}
