/** A machine that reports fixed hardware, so placement advice reads the same on every host. */
import type { HardwareInfo } from '@allerac/protocol';
import type { SystemProbe } from '../../src/system/hardware.js';

const GB = 1e9;

/** 16 GB, 8 GB free, no GPU, unless `hardware` says otherwise. */
export function fixedSystem(hardware: Partial<HardwareInfo>): SystemProbe {
  const facts: HardwareInfo = {
    cpuModel: 'test',
    cores: 8,
    ramTotal: 16 * GB,
    ramFree: 8 * GB,
    gpus: [],
    diskFree: 500 * GB,
    ...hardware,
  };
  return {
    hardware: async () => facts,
    usage: async () => ({
      at: Date.now(),
      cpu: 0,
      ramTotal: facts.ramTotal,
      ramUsed: facts.ramTotal - facts.ramFree,
      swapTotal: 0,
      swapUsed: 0,
      diskTotal: 1000 * GB,
      diskUsed: 500 * GB,
      temperature: null,
    }),
  };
}
