/** The GGUF metadata `/api/show` reports as model_info, and the details every listing shows. */
import { parameterBillions } from './catalog.js';
import type { SimModel } from './types.js';

/** Length of the model's vectors: its embedding dimension, or a chat model's hidden size. */
export function embeddingLength(model: SimModel): number {
  return model.embeddingDimensions ?? (parameterBillions(model.parameterSize) >= 6 ? 4096 : 3072);
}

/** The context length in model_info. */
export function contextLength(model: SimModel): number {
  return model.contextLength ?? (model.capabilities.includes('embedding') ? 512 : 131_072);
}

/** api.ModelDetails. */
export function modelDetails(model: SimModel) {
  return {
    parent_model: '',
    format: 'gguf',
    family: model.family,
    families: model.families ?? [model.family],
    parameter_size: model.parameterSize,
    quantization_level: model.quantization,
  };
}

/** model_info: the architecture's keys, as ggml.KV lists them. */
export function modelInfo(model: SimModel): Record<string, unknown> {
  return {
    'general.architecture': model.family,
    'general.parameter_count': Math.round(parameterBillions(model.parameterSize) * 1e9),
    'general.quantization_version': 2,
    [`${model.family}.context_length`]: contextLength(model),
    [`${model.family}.embedding_length`]: embeddingLength(model),
    ...(model.capabilities.includes('embedding') ? { [`${model.family}.pooling_type`]: 1 } : {}),
    ...(model.capabilities.includes('vision') ? { [`${model.family}.vision.block_count`]: 27 } : {}),
  };
}
