import { TypedEventEmitter } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { SystemSample } from './hardware.js';

/** A sample every 2 s, as the dashboard's charts expect. */
export const SAMPLE_INTERVAL_MS = 2_000;
/** Ten minutes of history at one sample per 2 s. */
export const HISTORY_LENGTH = 300;

/** Events of the sampler. */
export interface SystemSamplerEvents {
  /** A new sample was taken. */
  sample: CustomEvent<SystemSample>;
}

/** Options of the sampler. */
export interface SystemSamplerInit {
  /** Milliseconds between samples; SAMPLE_INTERVAL_MS by default. */
  intervalMs?: number;
  /** Samples kept; HISTORY_LENGTH by default. */
  historyLength?: number;
}

/** What the sampler reads. */
export interface SystemSamplerComponents {
  /** The probe's usage reading (system/hardware.ts). */
  usage: () => Promise<SystemSample>;
  logger: Logger;
}

/**
 * Samples the probe's usage reading while anyone listens to `sample`, and keeps the last samples
 * so a newly opened dashboard starts with a chart.
 */
export class SystemSampler extends TypedEventEmitter<SystemSamplerEvents> {
  private readonly history: SystemSample[] = [];
  private readonly intervalMs: number;
  private readonly historyLength: number;
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(
    private readonly components: SystemSamplerComponents,
    init: SystemSamplerInit = {},
  ) {
    super();
    this.intervalMs = init.intervalMs ?? SAMPLE_INTERVAL_MS;
    this.historyLength = init.historyLength ?? HISTORY_LENGTH;
  }

  /** Whether samples are being taken now. */
  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Samples taken so far, oldest first. */
  recent(): SystemSample[] {
    return [...this.history];
  }

  override addEventListener<K extends keyof SystemSamplerEvents>(
    type: K,
    listener: Parameters<TypedEventEmitter<SystemSamplerEvents>['addEventListener']>[1],
    options?: Parameters<TypedEventEmitter<SystemSamplerEvents>['addEventListener']>[2],
  ): void {
    super.addEventListener(type, listener, options);
    // Sampling costs a little CPU, so it runs only while someone watches.
    if (type === 'sample') this.start();
  }

  /** Starts sampling; idempotent. */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
    void this.tick();
  }

  /** Stops sampling; idempotent. The history stays. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    // A slow sample (statfs on a busy disk) must not pile up behind itself.
    if (this.sampling || this.timer === undefined) return;
    this.sampling = true;
    try {
      const sample = await this.components.usage();
      this.history.push(sample);
      if (this.history.length > this.historyLength)
        this.history.splice(0, this.history.length - this.historyLength);
      this.safeDispatchEvent('sample', { detail: sample });
      if (this.listenerCount('sample') === 0) this.stop();
    } catch (error) {
      this.components.logger.debug({ err: error }, 'system sample failed');
    } finally {
      this.sampling = false;
    }
  }
}
