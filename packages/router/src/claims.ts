/** Bounds on what a remote card claims about its hardware and load (see {@link CLAIM_BOUNDS}). */
import { CLAIM_BOUNDS } from './constants.js';
import type { Candidate, ClaimBounds } from './types.js';

/**
 * The candidate with its card's claims cut to plausible values: slots, GPU count, free VRAM and
 * free RAM. The local node is returned as is: this node measured its own hardware.
 */
export function boundClaims(node: Candidate, bounds: Partial<ClaimBounds> = {}): Candidate {
  if (node.isLocal) return node;
  const b: ClaimBounds = { ...CLAIM_BOUNDS, ...bounds };
  const gpuCount = clamp(Math.floor(node.memory.gpuCount), 0, b.maxGpus);
  const slots = clamp(Math.floor(node.load.slots), 1, b.maxSlots);
  const memory = {
    ramFreeBytes: clamp(node.memory.ramFreeBytes, 0, b.maxRamBytes),
    vramFreeBytes: clamp(node.memory.vramFreeBytes, 0, gpuCount * b.maxVramPerGpuBytes),
    gpuCount,
  };
  const unchanged =
    slots === node.load.slots &&
    memory.gpuCount === node.memory.gpuCount &&
    memory.ramFreeBytes === node.memory.ramFreeBytes &&
    memory.vramFreeBytes === node.memory.vramFreeBytes;
  return unchanged ? node : { ...node, memory, load: { ...node.load, slots } };
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : min;
}
