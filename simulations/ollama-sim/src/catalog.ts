/** The built-in model catalog and Ollama's model-name rules. */
import { createHash } from 'node:crypto';
import type { SimModel } from './types.js';

const llama32: Omit<SimModel, 'name'> = {
  family: 'llama',
  parameterSize: '3.2B',
  quantization: 'Q4_K_M',
  sizeBytes: 2_019_393_189,
  capabilities: ['completion', 'tools'],
  contextLength: 131_072,
};

/**
 * Models `/api/pull` can fetch, keyed by full name. Sizes are close to the real Ollama library's,
 * and each model has the capabilities `/api/show` lists for it there (types/model/capability.go):
 * gemma3 and llava see images, qwen3 thinks, qwen2.5-coder fills in the middle, gemma3 has no tools.
 */
export const MODEL_CATALOG: Record<string, SimModel> = {
  'llama3.2:3b': { name: 'llama3.2:3b', ...llama32 },
  'llama3.2:latest': { name: 'llama3.2:latest', ...llama32 },
  'llama3.1:8b': {
    name: 'llama3.1:8b',
    family: 'llama',
    parameterSize: '8.0B',
    quantization: 'Q4_K_M',
    sizeBytes: 4_920_753_328,
    capabilities: ['completion', 'tools'],
    contextLength: 131_072,
  },
  'qwen2.5-coder:7b': {
    name: 'qwen2.5-coder:7b',
    family: 'qwen2',
    parameterSize: '7.6B',
    quantization: 'Q4_K_M',
    sizeBytes: 4_683_087_332,
    capabilities: ['completion', 'tools', 'insert'],
    contextLength: 32_768,
  },
  'mistral:7b': {
    name: 'mistral:7b',
    family: 'llama',
    parameterSize: '7.2B',
    quantization: 'Q4_K_M',
    sizeBytes: 4_372_824_384,
    capabilities: ['completion', 'tools'],
    contextLength: 32_768,
  },
  'qwen3:8b': {
    name: 'qwen3:8b',
    family: 'qwen3',
    parameterSize: '8.2B',
    quantization: 'Q4_K_M',
    sizeBytes: 5_225_387_923,
    capabilities: ['completion', 'tools', 'thinking'],
    contextLength: 40_960,
  },
  'gemma3:4b': {
    name: 'gemma3:4b',
    family: 'gemma3',
    parameterSize: '4.3B',
    quantization: 'Q4_K_M',
    sizeBytes: 3_338_801_804,
    capabilities: ['completion', 'vision'],
    contextLength: 131_072,
  },
  'llava:7b': {
    name: 'llava:7b',
    family: 'llama',
    families: ['llama', 'clip'],
    parameterSize: '7B',
    quantization: 'Q4_0',
    sizeBytes: 4_733_363_377,
    capabilities: ['completion', 'vision'],
    contextLength: 32_768,
  },
  'all-minilm:latest': {
    name: 'all-minilm:latest',
    family: 'bert',
    parameterSize: '23M',
    quantization: 'F16',
    sizeBytes: 45_960_996,
    capabilities: ['embedding'],
    embeddingDimensions: 384,
    contextLength: 512,
  },
  'nomic-embed-text:latest': {
    name: 'nomic-embed-text:latest',
    family: 'nomic-bert',
    parameterSize: '137M',
    quantization: 'F16',
    sizeBytes: 274_302_450,
    capabilities: ['embedding'],
    embeddingDimensions: 768,
    contextLength: 2048,
  },
};

/** Tags that share weights with another catalog entry (same digest, same answers). */
const ALIASES: Record<string, string> = { 'llama3.2:latest': 'llama3.2:3b' };

/** The models installed when no `models` option is given. */
export const DEFAULT_MODELS = ['llama3.2:3b', 'all-minilm:latest'];

/** Ollama's name rule: the tag defaults to `latest`; names compare case-insensitively. */
export function normalizeModelName(name: string): string {
  const trimmed = name.trim().toLowerCase();
  const lastSegment = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? trimmed : `${trimmed}:latest`;
}

/** The name that identifies a model's weights: aliases resolve to their target. */
export function weightsName(name: string): string {
  const normalized = normalizeModelName(name);
  return ALIASES[normalized] ?? normalized;
}

/** Parses Ollama's parameter size (`3.2B`, `137M`) into billions; unknown formats count as 1B. */
export function parameterBillions(parameterSize: string): number {
  const match = /^([\d.]+)\s*([KMBT]?)$/i.exec(parameterSize.trim());
  if (!match) return 1;
  const value = Number(match[1]);
  const scale: Record<string, number> = { K: 1e-6, M: 1e-3, B: 1, T: 1e3, '': 1e-9 };
  const billions = value * (scale[match[2]!.toUpperCase()] ?? 1);
  return Number.isFinite(billions) && billions > 0 ? billions : 1;
}

/** A stable 64-hex digest for a model's weights, as `/api/tags` shows manifest digests. */
export function modelDigest(weights: string): string {
  return createHash('sha256').update(`ollama-sim:${weights}`).digest('hex');
}

/** Resolves a `models` option entry into a full model. */
export function resolveModel(entry: string | SimModel): SimModel {
  if (typeof entry !== 'string') return { ...entry, name: normalizeModelName(entry.name) };
  const found = MODEL_CATALOG[normalizeModelName(entry)];
  if (found === undefined) {
    throw new Error(
      `model "${entry}" is not in the catalog; available: ${Object.keys(MODEL_CATALOG).join(', ')}`,
    );
  }
  return { ...found };
}
