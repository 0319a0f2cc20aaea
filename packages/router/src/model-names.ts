/**
 * Ollama's model naming, mesh-wide: `llama3.2` means `llama3.2:latest`, or the only installed
 * `llama3.2:*` tag; `auto` means the best chat model the mesh can run.
 */
import { BYTES_PER_PARAMETER_Q4, MEMORY_SAFETY_MARGIN } from './constants.js';
import { AmbiguousModelError, ModelNotFoundError } from './errors.js';
import type { Candidate, CandidateModel, RouterOptions } from './types.js';

/** The model name that asks the router to choose. */
export const AUTO_MODEL = 'auto';

/** One model of the mesh, deduplicated over nodes (what /api/tags and /v1/models list). */
export interface MeshModel {
  /** Full name with tag. */
  name: string;
  /** Size in bytes (the largest any node reports, to be safe). */
  sizeBytes: number;
  /** Ollama's parameter size, from the first node that reports it. */
  parameterSize?: string;
  /** Ollama's family. */
  family?: string;
  /** Ollama's quantization level. */
  quantization?: string;
  /** Union of the capabilities the nodes report. */
  capabilities?: string[];
  /** Ids of the nodes that have it installed, sorted. */
  nodeIds: string[];
  /** Ids of the nodes that have it loaded, sorted. */
  loadedOn: string[];
}

/**
 * Canonical form of an Ollama name: lower case, the default registry and `library/` namespace
 * dropped, and `:latest` added when there is no tag (a `:` before the last `/` is a host port).
 */
export function normalizeModelName(name: string): string {
  let n = name.trim().toLowerCase();
  n = n.replace(/^registry\.ollama\.ai\//, '').replace(/^library\//, '');
  return hasTag(n) ? n : `${n}:latest`;
}

/** Whether a name carries an explicit tag. */
function hasTag(name: string): boolean {
  return name.slice(name.lastIndexOf('/') + 1).includes(':');
}

/** The name without its tag. */
function baseName(name: string): string {
  const slash = name.lastIndexOf('/');
  const colon = name.indexOf(':', slash + 1);
  return colon < 0 ? name : name.slice(0, colon);
}

/** Nodes whose installed models count as "in the mesh": everything not gone. */
function present(candidates: readonly Candidate[]): Candidate[] {
  return candidates.filter((c) => c.status === 'online');
}

/** Nodes that could serve right now (online with a working backend). */
function servable(candidates: readonly Candidate[]): Candidate[] {
  return candidates.filter((c) => c.status === 'online' && c.backendUp);
}

/**
 * Deduplicated list of the models the mesh can serve (online nodes with a working backend),
 * sorted by name: what the node shows on /api/tags and /v1/models.
 */
export function listMeshModels(candidates: readonly Candidate[]): MeshModel[] {
  return collect(servable(candidates));
}

function collect(candidates: readonly Candidate[]): MeshModel[] {
  const byName = new Map<string, MeshModel>();
  for (const node of [...candidates].sort((a, b) => compareIds(a.id, b.id))) {
    for (const model of node.models) {
      const name = normalizeModelName(model.name);
      let entry = byName.get(name);
      if (entry === undefined) {
        entry = { name, sizeBytes: model.sizeBytes, nodeIds: [], loadedOn: [] };
        if (model.parameterSize !== undefined) entry.parameterSize = model.parameterSize;
        if (model.family !== undefined) entry.family = model.family;
        if (model.quantization !== undefined) entry.quantization = model.quantization;
        byName.set(name, entry);
      }
      entry.sizeBytes = Math.max(entry.sizeBytes, model.sizeBytes);
      entry.parameterSize ??= model.parameterSize;
      entry.family ??= model.family;
      entry.quantization ??= model.quantization;
      if (model.capabilities !== undefined) {
        entry.capabilities = [...new Set([...(entry.capabilities ?? []), ...model.capabilities])].sort();
      }
      if (!entry.nodeIds.includes(node.id)) entry.nodeIds.push(node.id);
      if (model.loaded && !entry.loadedOn.includes(node.id)) entry.loadedOn.push(node.id);
    }
  }
  return [...byName.values()].sort((a, b) => compareIds(a.name, b.name));
}

/** Finds a model on a node by its canonical name. */
export function findModel(node: Candidate, resolvedName: string): CandidateModel | undefined {
  return node.models.find((m) => normalizeModelName(m.name) === resolvedName);
}

/** Billions of parameters from `details.parameter_size` (`8.0B`, `567M`), or from the size on disk. */
export function parameterBillions(model: { parameterSize?: string | undefined; sizeBytes: number }): number {
  const match = /^\s*([\d.]+)\s*([KMBT])?/i.exec(model.parameterSize ?? '');
  if (match?.[1] !== undefined) {
    const value = Number.parseFloat(match[1]);
    const unit = (match[2] ?? 'B').toUpperCase();
    const scale = unit === 'T' ? 1e3 : unit === 'B' ? 1 : unit === 'M' ? 1e-3 : 1e-6;
    if (Number.isFinite(value) && value > 0) return value * scale;
  }
  return model.sizeBytes / BYTES_PER_PARAMETER_Q4 / 1e9;
}

/**
 * Whether a model can chat: Ollama's capabilities say `completion` when present; older backends
 * do not report capabilities, so embedding models are then recognised by name and family.
 */
export function isChatModel(model: {
  name: string;
  family?: string | undefined;
  capabilities?: string[] | undefined;
}): boolean {
  if (model.capabilities !== undefined && model.capabilities.length > 0) {
    return model.capabilities.includes('completion');
  }
  return !/embed/i.test(model.name) && !/bert/i.test(model.family ?? '');
}

/**
 * Resolves a client's model name to one full name installed in the mesh (any online node, even
 * one whose backend is down, so the ranking can say why it cannot serve rather than "not found").
 *
 * `auto` picks the best chat model the mesh can run now: among chat models on online nodes with a
 * working backend that are loaded somewhere or fit some node's free memory, the one with the most
 * parameters (a proxy for answer quality); ties go to the model on more nodes, then by name.
 *
 * @throws ModelNotFoundError when nothing matches (its message lists the mesh's models)
 * @throws AmbiguousModelError when a short name matches several tags and none is `:latest`
 */
export function resolveModel(
  name: string,
  candidates: readonly Candidate[],
  options: RouterOptions = {},
): string {
  const all = collect(present(candidates));
  const available = all.map((m) => m.name);
  if (name.trim().toLowerCase() === AUTO_MODEL) return resolveAuto(candidates, options, available);
  const wanted = normalizeModelName(name);
  if (available.includes(wanted)) return wanted;
  if (!hasTag(name.trim())) {
    const base = baseName(wanted);
    const tags = available.filter((m) => baseName(m) === base);
    if (tags.length === 1) return tags[0]!;
    if (tags.length > 1) throw new AmbiguousModelError(name, tags);
  }
  throw new ModelNotFoundError(name, available);
}

function resolveAuto(candidates: readonly Candidate[], options: RouterOptions, available: string[]): string {
  const margin = options.memorySafetyMargin ?? MEMORY_SAFETY_MARGIN;
  const nodes = servable(candidates);
  const runnable = collect(nodes).filter((model) => {
    if (!isChatModel(model)) return false;
    if (model.loadedOn.length > 0) return true;
    return nodes.some(
      (node) => model.nodeIds.includes(node.id) && model.sizeBytes * (1 + margin) <= usableMemoryBytes(node),
    );
  });
  runnable.sort(
    (a, b) =>
      parameterBillions(b) - parameterBillions(a) ||
      b.nodeIds.length - a.nodeIds.length ||
      compareIds(a.name, b.name),
  );
  const best = runnable[0];
  if (best === undefined) throw new ModelNotFoundError(AUTO_MODEL, available);
  return best.name;
}

/** Memory a model would load into: VRAM on a GPU node, RAM otherwise. */
export function usableMemoryBytes(node: Pick<Candidate, 'memory'>): number {
  return node.memory.gpuCount > 0 ? node.memory.vramFreeBytes : node.memory.ramFreeBytes;
}

/** Deterministic string order independent of locale. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
