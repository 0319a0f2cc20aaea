/** Built-in hardware profiles. */
import type { HardwareProfile } from './types.js';

const GB = 1024 ** 3;
const FIVE_MINUTES_MS = 5 * 60 * 1000;

/** Built-in profiles: an office GPU box, a CPU mini-PC, a laptop, and an instant one for overhead benchmarks. */
export const PROFILES: Record<string, HardwareProfile> = {
  gpu: {
    name: 'gpu',
    tokensPerSecond: 60,
    referenceParamsB: 8,
    ttftMs: 120,
    promptEvalTokensPerSecond: 2500,
    parallelSlots: 4,
    queueLimit: 512,
    memoryBytes: 24 * GB,
    loadMsPerGB: 400,
    keepAliveMs: FIVE_MINUTES_MS,
    gpu: true,
    downloadBytesPerSecond: 125e6, // a gigabit line
  },
  cpu: {
    name: 'cpu',
    tokensPerSecond: 12,
    referenceParamsB: 3.2,
    ttftMs: 600,
    promptEvalTokensPerSecond: 60,
    parallelSlots: 1,
    queueLimit: 8,
    memoryBytes: 16 * GB,
    loadMsPerGB: 1500,
    keepAliveMs: FIVE_MINUTES_MS,
    gpu: false,
    downloadBytesPerSecond: 25e6, // 200 Mbit/s
  },
  laptop: {
    name: 'laptop',
    tokensPerSecond: 28,
    referenceParamsB: 3.2,
    ttftMs: 250,
    promptEvalTokensPerSecond: 400,
    parallelSlots: 2,
    queueLimit: 32,
    memoryBytes: 16 * GB,
    loadMsPerGB: 900,
    keepAliveMs: FIVE_MINUTES_MS,
    gpu: true,
    downloadBytesPerSecond: 40e6, // Wi-Fi
  },
  fast: {
    name: 'fast',
    tokensPerSecond: 2000,
    referenceParamsB: 3.2,
    ttftMs: 1,
    promptEvalTokensPerSecond: 1_000_000,
    parallelSlots: 256,
    queueLimit: 4096,
    memoryBytes: 1024 * GB,
    loadMsPerGB: 0,
    keepAliveMs: FIVE_MINUTES_MS,
    gpu: true,
    downloadBytesPerSecond: 4e9,
  },
};

/** Resolves a profile option: a name from PROFILES or a full profile. */
export function resolveProfile(profile: string | HardwareProfile | undefined): HardwareProfile {
  if (profile === undefined) return { ...PROFILES.gpu! };
  if (typeof profile !== 'string') return { ...profile };
  const found = PROFILES[profile];
  if (found === undefined) {
    throw new Error(`unknown profile "${profile}"; available: ${Object.keys(PROFILES).join(', ')}`);
  }
  return { ...found };
}
