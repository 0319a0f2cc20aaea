import type { BackendModel } from '../backend/backend.js';
import { BackendProtocolError } from '../backend/errors.js';
import { isEmbeddingModel } from '../backend/model-capabilities.js';
import type { InferenceGateway } from '../inference/gateway.js';
import { DEFAULT_EMBEDDING_MODEL } from './constants.js';

/**
 * Picks the embedding model when none is configured: all-minilm when this node's Ollama has it,
 * else the first embedding-capable model there, else all-minilm (which then fails clearly).
 */
export async function pickEmbeddingModel(gateway: InferenceGateway): Promise<string> {
  const models = await gateway.localModels().catch(() => [] as BackendModel[]);
  if (models.some((m) => m.name === DEFAULT_EMBEDDING_MODEL)) return DEFAULT_EMBEDDING_MODEL;
  return models.find(isEmbeddingModel)?.name ?? DEFAULT_EMBEDDING_MODEL;
}

/**
 * Embeds texts on this node's own Ollama. Never on a peer's: the text of a private memory must
 * not leave the node even to be indexed, and each node embeds shared text itself, so vectors
 * never travel either. A node without a local embedding model keeps its memories unindexed (and
 * says so in the memory settings) until it has one.
 */
export async function embedTexts(
  gateway: InferenceGateway,
  model: string,
  texts: readonly string[],
  /** The caller's: a chat's lookup stops with its client, a background pass with the service. */
  signal: AbortSignal,
): Promise<number[][]> {
  if (texts.length === 0) return [];
  const response = await gateway.embedLocally({ model, input: [...texts] }, signal);
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
