import type { Logger } from 'pino';
import si from 'systeminformation';

/** One sample of this machine's health. */
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
  diskTotal: number;
  diskUsed: number;
  /** Main CPU temperature in °C, or null where the OS does not expose it. */
  temperature: number | null;
}

/** A sample every 2 s, as the dashboard's charts expect. */
export const SAMPLE_INTERVAL_MS = 2_000;
/** Ten minutes of history at one sample per 2 s. */
export const HISTORY_LENGTH = 300;

type Listener = (sample: SystemSample) => void;

/**
 * Samples CPU, RAM, swap, disk and temperature with systeminformation while anyone listens, and
 * keeps the last HISTORY_LENGTH samples so a newly opened dashboard starts with a chart.
 */
export class SystemSampler {
  private readonly history: SystemSample[] = [];
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  private stopped = false;

  constructor(
    private readonly diskPath: string,
    private readonly logger: Logger,
  ) {}

  /** Samples taken so far, oldest first. */
  recent(): SystemSample[] {
    return [...this.history];
  }

  /** Calls `listener` with each new sample until the returned function is called. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    this.start();
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Starts sampling; idempotent. */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops sampling for good; idempotent. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  /** Takes one sample now. */
  async sample(): Promise<SystemSample> {
    const [load, mem, disks, temp] = await Promise.all([
      si.currentLoad().catch(() => undefined),
      si.mem().catch(() => undefined),
      si.fsSize().catch(() => []),
      si.cpuTemperature().catch(() => undefined),
    ]);
    const disk = pickDisk(disks, this.diskPath);
    const main = temp?.main;
    return {
      at: Date.now(),
      cpu: round(load?.currentLoad ?? 0),
      ramTotal: mem?.total ?? 0,
      ramUsed: mem === undefined ? 0 : mem.total - mem.available,
      swapTotal: mem?.swaptotal ?? 0,
      swapUsed: mem?.swapused ?? 0,
      diskTotal: disk?.size ?? 0,
      diskUsed: disk?.used ?? 0,
      temperature: typeof main === 'number' && Number.isFinite(main) && main > 0 ? round(main) : null,
    };
  }

  private async tick(): Promise<void> {
    // A slow sample (df on a busy disk) must not pile up behind itself.
    if (this.sampling || this.stopped) return;
    this.sampling = true;
    try {
      const sample = await this.sample();
      this.history.push(sample);
      if (this.history.length > HISTORY_LENGTH) this.history.splice(0, this.history.length - HISTORY_LENGTH);
      for (const listener of this.listeners) listener(sample);
      if (this.listeners.size === 0 && this.timer !== undefined) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    } catch (error) {
      this.logger.debug({ err: error }, 'system sample failed');
    } finally {
      this.sampling = false;
    }
  }
}

const round = (value: number) => Math.round(value * 10) / 10;

/** The filesystem holding `path`: the longest mount point that prefixes it. */
function pickDisk(disks: si.Systeminformation.FsSizeData[], path: string) {
  let best: si.Systeminformation.FsSizeData | undefined;
  for (const disk of disks) {
    if (!path.startsWith(disk.mount)) continue;
    if (best === undefined || disk.mount.length > best.mount.length) best = disk;
  }
  return best ?? disks.find((disk) => disk.mount === '/') ?? disks[0];
}
