/** Hardware facts for the NodeCard, from systeminformation, with the slow calls cached. */
import { statfs } from 'node:fs/promises';
import type { GpuInfo, HardwareInfo } from '@allerac/protocol';
import si from 'systeminformation';

/** Options of the hardware probe. */
export interface HardwareProbeInit {
  /** Directory whose filesystem's free space is reported as `diskFree`. */
  dataDir: string;
  /** How long GPU facts are cached (ms); probing GPUs spawns tools such as nvidia-smi. */
  gpuCacheMs?: number;
  /** How long memory and disk facts are cached (ms). */
  fastCacheMs?: number;
}

/** Returns the current hardware facts; repeated calls are served from caches. */
export type HardwareProbe = () => Promise<HardwareInfo>;

const MIB = 1024 * 1024;

/** Creates a cached hardware probe. */
export function createHardwareProbe(init: HardwareProbeInit): HardwareProbe {
  const gpuCacheMs = init.gpuCacheMs ?? 60_000;
  const fastCacheMs = init.fastCacheMs ?? 1_000;
  let cpu: Promise<{ cpuModel: string; cores: number }> | undefined;
  let gpus: { at: number; value: Promise<GpuInfo[]> } | undefined;
  let fast: { at: number; value: Promise<Omit<HardwareInfo, 'cpuModel' | 'cores' | 'gpus'>> } | undefined;

  return async () => {
    const now = Date.now();
    cpu ??= si.cpu().then(
      (c) => ({ cpuModel: `${c.manufacturer} ${c.brand}`.trim(), cores: c.cores }),
      () => ({ cpuModel: 'unknown', cores: 0 }),
    );
    if (gpus === undefined || now - gpus.at > gpuCacheMs) gpus = { at: now, value: probeGpus() };
    if (fast === undefined || now - fast.at > fastCacheMs) fast = { at: now, value: probeFast(init.dataDir) };
    const [c, g, f] = await Promise.all([cpu, gpus.value, fast.value]);
    return { ...c, ...f, gpus: g };
  };
}

async function probeGpus(): Promise<GpuInfo[]> {
  try {
    const { controllers } = await si.graphics();
    return controllers.map((g) => {
      const totalMb = g.memoryTotal ?? g.vram ?? 0;
      const freeMb = g.memoryFree ?? 0;
      return {
        model: `${g.vendor ?? ''} ${g.model ?? ''}`.trim() || 'unknown',
        vramTotal: Math.max(0, Math.round(totalMb * MIB)),
        vramFree: Math.max(0, Math.round(freeMb * MIB)),
      };
    });
  } catch {
    return [];
  }
}

async function probeFast(dataDir: string): Promise<Omit<HardwareInfo, 'cpuModel' | 'cores' | 'gpus'>> {
  const [mem, disk] = await Promise.all([
    si.mem().catch(() => undefined),
    statfs(dataDir).then(
      (s) => s.bavail * s.bsize,
      () => 0,
    ),
  ]);
  return {
    ramTotal: mem?.total ?? 0,
    ramFree: mem?.available ?? 0,
    swapTotal: mem?.swaptotal ?? 0,
    swapFree: mem?.swapfree ?? 0,
    diskFree: disk,
  };
}
