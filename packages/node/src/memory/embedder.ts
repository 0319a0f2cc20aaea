import type { BackendModel } from '../backend/backend.js';
import { BackendProtocolError } from '../backend/errors.js';
import type { InferenceGateway } from '../inference/gateway.js';
import { DEFAULT_EMBEDDING_MODEL } from './constants.js';

/** Families and name fragments of embedding-only models (Ollama lists no capability in /api/tags). */
const EMBEDDING_FAMILIES = ['bert', 'nomic-bert', 'xlm-roberta'];
const EMBEDDING_NAME = /embed|minilm|bge|gte|e5-|arctic-embed|mxbai/i;

/** True when a listed model looks like an embedding model. */
export function isEmbeddingModel(model: Pick<BackendModel, 'name' | 'details'>): boolean {
  const family = model.details?.family ?? '';
  return EMBEDDING_FAMILIES.includes(family) || EMBEDDING_NAME.test(model.name);
}

/**
 * Picks the embedding model when none is configured: all-minilm when anyone in the mesh has it,
 * else the first embedding-capable model found, else all-minilm (which then fails clearly).
 */
export async function pickEmbeddingModel(gateway: InferenceGateway): Promise<string> {
  const models = await gateway.models().catch(() => [] as BackendModel[]);
  if (models.some((m) => m.name === DEFAULT_EMBEDDING_MODEL)) return DEFAULT_EMBEDDING_MODEL;
  return models.find(isEmbeddingModel)?.name ?? DEFAULT_EMBEDDING_MODEL;
}

/**
 * Embeds texts through the inference gateway, so that a node without an embedding model of its
 * own has the call served by a peer that has one.
 */
export async function embedTexts(
  gateway: InferenceGateway,
  model: string,
  texts: readonly string[],
  signal: AbortSignal = AbortSignal.timeout(60_000),
): Promise<number[][]> {
  if (texts.length === 0) return [];
  const { response } = await gateway.embed({ model, input: [...texts] }, signal);
  const embeddings = response.embeddings;
  if (
    !Array.isArray(embeddings) ||
    embeddings.length !== texts.length ||
    !embeddings.every((e) => Array.isArray(e) && e.length > 0 && e.every((x) => typeof x === 'number'))
  ) {
    throw new BackendProtocolError(`the embedding model ${model} returned no usable vectors`);
  }
  return embeddings as number[][];
}
