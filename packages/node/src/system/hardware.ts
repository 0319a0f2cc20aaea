/**
 * This machine's one probe, from systeminformation: the hardware facts that the card, the
 * router and the dashboard show, and the usage samples that the dashboard charts, both from the
 * same cached reads.
 */
import { statfs } from 'node:fs/promises';
import type { GpuInfo, HardwareInfo } from '@allerac/protocol';
import si from 'systeminformation';

/** Options of the probe. */
export interface SystemProbeInit {
  /** Directory whose filesystem is reported (`diskFree`, and the disk of the samples). */
  dataDir: string;
  /** How long GPU facts are cached (ms); probing GPUs spawns tools such as nvidia-smi. */
  gpuCacheMs?: number;
  /** How long memory and disk facts are cached (ms). */
  fastCacheMs?: number;
}

/** Returns the current hardware facts; repeated calls are served from caches. */
export type HardwareProbe = () => Promise<HardwareInfo>;

/** One sample of this machine's use, for the dashboard's charts. Sizes are bytes. */
export interface SystemSample {
  /** Milliseconds since the epoch. */
  at: number;
  /** CPU use, 0-100. */
  cpu: number;
  ramTotal: number;
  /** RAM in use, not counting reclaimable cache. */
  ramUsed: number;
  swapTotal: number;
  swapUsed: number;
  /** Size of the filesystem holding the data dir. */
  diskTotal: number;
  diskUsed: number;
  /** Main CPU temperature in °C, or null where the OS does not expose it. */
  temperature: number | null;
}

/** The probe: one source for every reading of this machine. */
export interface SystemProbe {
  /** Hardware facts in the card's shape (`HardwareInfo`), for the card, the router and the dashboard. */
  readonly hardware: HardwareProbe;
  /** One usage sample now (memory and disk from the same cache as `hardware`). */
  usage(): Promise<SystemSample>;
}

/** Memory and disk, the facts that change from second to second. */
interface FastFacts {
  ramTotal: number;
  ramFree: number;
  swapTotal: number;
  swapFree: number;
  diskTotal: number;
  diskFree: number;
  diskUsed: number;
}

const MIB = 1024 * 1024;

/** Creates the probe; nothing is read until it is asked. */
export function createSystemProbe(init: SystemProbeInit): SystemProbe {
  const gpuCacheMs = init.gpuCacheMs ?? 60_000;
  const fastCacheMs = init.fastCacheMs ?? 1_000;
  let cpu: Promise<{ cpuModel: string; cores: number }> | undefined;
  let gpus: { at: number; value: Promise<GpuInfo[]> } | undefined;
  let fast: { at: number; value: Promise<FastFacts> } | undefined;
  const fastFacts = () => {
    const now = Date.now();
    if (fast === undefined || now - fast.at > fastCacheMs) fast = { at: now, value: probeFast(init.dataDir) };
    return fast.value;
  };

  return {
    async hardware() {
      const now = Date.now();
      cpu ??= si.cpu().then(
        (c) => ({ cpuModel: `${c.manufacturer} ${c.brand}`.trim(), cores: c.cores }),
        () => ({ cpuModel: 'unknown', cores: 0 }),
      );
      if (gpus === undefined || now - gpus.at > gpuCacheMs) gpus = { at: now, value: probeGpus() };
      const [c, g, f] = await Promise.all([cpu, gpus.value, fastFacts()]);
      return {
        ...c,
        ramTotal: f.ramTotal,
        ramFree: f.ramFree,
        swapTotal: f.swapTotal,
        swapFree: f.swapFree,
        diskFree: f.diskFree,
        gpus: g,
      };
    },
    async usage() {
      const [load, temp, f] = await Promise.all([
        si.currentLoad().catch(() => undefined),
        si.cpuTemperature().catch(() => undefined),
        fastFacts(),
      ]);
      const main = temp?.main;
      return {
        at: Date.now(),
        cpu: round(load?.currentLoad ?? 0),
        ramTotal: f.ramTotal,
        ramUsed: f.ramTotal - f.ramFree,
        swapTotal: f.swapTotal,
        swapUsed: Math.max(0, f.swapTotal - f.swapFree),
        diskTotal: f.diskTotal,
        diskUsed: f.diskUsed,
        temperature: typeof main === 'number' && Number.isFinite(main) && main > 0 ? round(main) : null,
      };
    },
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

async function probeFast(dataDir: string): Promise<FastFacts> {
  const [mem, disk] = await Promise.all([
    si.mem().catch(() => undefined),
    statfs(dataDir).catch(() => undefined),
  ]);
  return {
    ramTotal: mem?.total ?? 0,
    // `available` counts reclaimable cache as free, as a new process would find it.
    ramFree: mem?.available ?? 0,
    swapTotal: mem?.swaptotal ?? 0,
    swapFree: mem?.swapfree ?? 0,
    diskTotal: disk === undefined ? 0 : disk.blocks * disk.bsize,
    // What an unprivileged process may still write; blocks reserved for root are not free to it.
    diskFree: disk === undefined ? 0 : disk.bavail * disk.bsize,
    diskUsed: disk === undefined ? 0 : (disk.blocks - disk.bfree) * disk.bsize,
  };
}

const round = (value: number) => Math.round(value * 10) / 10;
