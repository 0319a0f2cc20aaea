import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { SystemSample } from '../src/system/hardware.js';
import { SystemSampler } from '../src/system/system-sampler.js';

const logger = pino({ level: 'silent' });

/** A usage reading that counts how often it was taken. */
function countingUsage() {
  let taken = 0;
  return {
    get taken() {
      return taken;
    },
    usage: async (): Promise<SystemSample> => {
      taken += 1;
      return {
        at: Date.now(),
        cpu: taken,
        ramTotal: 8,
        ramUsed: 4,
        swapTotal: 0,
        swapUsed: 0,
        diskTotal: 100,
        diskUsed: 50,
        temperature: null,
      };
    },
  };
}

const nextSample = (sampler: SystemSampler) =>
  new Promise<SystemSample>((resolve) => {
    const listener = (evt: CustomEvent<SystemSample>) => {
      sampler.removeEventListener('sample', listener);
      resolve(evt.detail);
    };
    sampler.addEventListener('sample', listener);
  });

describe('SystemSampler', () => {
  it('should sample only while someone listens, dispatching each sample as an event', async () => {
    const probe = countingUsage();
    const sampler = new SystemSampler({ usage: probe.usage, logger }, { intervalMs: 5, historyLength: 3 });
    expect(sampler.running).toBe(false);
    expect(probe.taken).toBe(0);
    expect((await nextSample(sampler)).cpu).toBe(1);
    // Its only listener left with that sample, so the sampler stopped in the same tick.
    expect(sampler.running).toBe(false);
    expect(probe.taken).toBe(1);
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) seen.push((await nextSample(sampler)).cpu);
    expect(seen).toEqual([2, 3, 4]);
    expect(sampler.recent().map((s) => s.cpu)).toEqual([2, 3, 4]);
    sampler.stop();
  });

  it('should be safe to start and stop twice', async () => {
    const probe = countingUsage();
    const sampler = new SystemSampler({ usage: probe.usage, logger }, { intervalMs: 5 });
    sampler.start();
    sampler.start();
    await nextSample(sampler);
    sampler.stop();
    sampler.stop();
    expect(sampler.recent().length).toBeGreaterThan(0);
  });
});
