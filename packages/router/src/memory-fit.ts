/** Whether a model fits a node's free memory: the one formula the ranking and the placement advice share. */
import { MEMORY_SAFETY_MARGIN } from './constants.js';
import { usableMemoryBytes } from './model-names.js';
import type { Candidate } from './types.js';

/** How a model of some size fits the free memory of one node. */
export interface MemoryFit {
  /** Size plus the safety margin for KV cache and compute buffers, bytes. */
  neededBytes: number;
  /** Free memory the model would load into, bytes: VRAM on a GPU node, RAM otherwise. */
  freeBytes: number;
  /** Which memory that is. */
  memory: 'vram' | 'ram';
  /** Bytes held by other loaded models, which Ollama unloads to make room. */
  reclaimableBytes: number;
  /** Fits the free memory as it is. */
  fits: boolean;
  /** Fits once the other loaded models are unloaded (true whenever `fits`). */
  fitsAfterUnload: boolean;
  /** Bytes of other models Ollama would unload to fit it; 0 when it fits as it is. */
  evictsBytes: number;
  /** Bytes missing even after unloading every other model; 0 when it fits. */
  shortBytes: number;
}

/**
 * How `sizeBytes` fits `node`: Ollama unloads other models to make room (sched.go,
 * findRunnerToUnload), so what they hold counts as memory the load can have; `except` names the
 * model itself, whose own memory is not reclaimable for it.
 */
export function memoryFit(
  node: Pick<Candidate, 'memory' | 'models'>,
  sizeBytes: number,
  options: { margin?: number | undefined; except?: string | undefined } = {},
): MemoryFit {
  const neededBytes = sizeBytes * (1 + (options.margin ?? MEMORY_SAFETY_MARGIN));
  const freeBytes = usableMemoryBytes(node);
  const reclaimableBytes = node.models
    .filter((m) => m.loaded && m.name !== options.except)
    .reduce((sum, m) => sum + m.sizeBytes, 0);
  const fits = neededBytes <= freeBytes;
  const fitsAfterUnload = neededBytes <= freeBytes + reclaimableBytes;
  return {
    neededBytes,
    freeBytes,
    memory: node.memory.gpuCount > 0 ? 'vram' : 'ram',
    reclaimableBytes,
    fits,
    fitsAfterUnload,
    evictsBytes: fits || !fitsAfterUnload ? 0 : neededBytes - freeBytes,
    shortBytes: fitsAfterUnload ? 0 : neededBytes - freeBytes - reclaimableBytes,
  };
}
