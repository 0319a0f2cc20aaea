import type { BackendModel } from './backend.js';

/** Families and name fragments of embedding-only models (Ollama lists no capability in /api/tags). */
const EMBEDDING_FAMILIES = ['bert', 'nomic-bert', 'xlm-roberta'];
const EMBEDDING_NAME = /embed|minilm|bge|gte|e5-|arctic-embed|mxbai/i;

/** True when a listed model looks like an embedding model. */
export function isEmbeddingModel(model: Pick<BackendModel, 'name' | 'details'>): boolean {
  const families = [model.details?.family ?? '', ...(model.details?.families ?? [])];
  return families.some((family) => EMBEDDING_FAMILIES.includes(family)) || EMBEDDING_NAME.test(model.name);
}

/** What a listed model can do, as the mesh card reports it. */
export function capabilitiesOf(model: Pick<BackendModel, 'name' | 'details'>): string[] {
  return isEmbeddingModel(model) ? ['embedding'] : ['completion'];
}
