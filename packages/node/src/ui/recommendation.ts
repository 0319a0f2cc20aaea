/** Which model size suits this machine. */
export type ModelTier = 'small' | 'medium' | 'large';

/** A model suggestion for the first-run wizard. */
export interface ModelRecommendation {
  ramBytes: number;
  tier: ModelTier;
  /** Suggested chat models, best first. */
  chat: string[];
  /** Suggested embedding models, best first. */
  embedding: string[];
  /** The parameter-count range that fits, for the UI to explain the choice. */
  sizeHint: string;
}

const GIB = 1024 ** 3;

/**
 * Recommends models by RAM: 3B under 16 GB, 7-8B at 16-32 GB, larger above. The bounds leave room
 * for the OS and the KV cache: a 7B model at Q4 needs about 5-6 GB once loaded.
 */
export function recommendModels(ramBytes: number): ModelRecommendation {
  // Machines sold as "16 GB" report a little less.
  const gib = ramBytes / GIB + 0.5;
  if (gib < 16) {
    return {
      ramBytes,
      tier: 'small',
      chat: ['llama3.2:3b', 'qwen2.5:3b', 'phi3:mini'],
      embedding: ['all-minilm', 'nomic-embed-text'],
      sizeHint: '3B',
    };
  }
  if (gib <= 32) {
    return {
      ramBytes,
      tier: 'medium',
      chat: ['llama3.1:8b', 'qwen2.5:7b', 'mistral:7b'],
      embedding: ['nomic-embed-text', 'all-minilm'],
      sizeHint: '7-8B',
    };
  }
  return {
    ramBytes,
    tier: 'large',
    chat: ['qwen2.5:14b', 'mistral-small:24b', 'llama3.1:8b'],
    embedding: ['nomic-embed-text', 'mxbai-embed-large'],
    sizeHint: '14B+',
  };
}

/** Whether an installed model's size matches the recommended tier (by its parameter_size). */
export function fitsTier(parameterSize: string | undefined, tier: ModelTier): boolean {
  const billions = Number.parseFloat(parameterSize ?? '');
  if (!Number.isFinite(billions)) return false;
  if (tier === 'small') return billions <= 4;
  if (tier === 'medium') return billions > 4 && billions <= 9;
  return billions > 9;
}
