import type { BackendModel } from '../backend/backend.js';
import { BackendProtocolError } from '../backend/errors.js';
import { isEmbeddingModel } from '../backend/model-capabilities.js';
import type { InferenceGateway } from '../inference/gateway.js';
import { DEFAULT_EMBEDDING_MODEL } from './constants.js';

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
