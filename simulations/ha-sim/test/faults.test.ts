import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestHa, type TestHa } from './helpers.js';

let ha: TestHa;
beforeEach(async () => {
  ha = await startTestHa();
});
afterEach(async () => {
  await ha.sim.close();
});

describe('faults', () => {
  it('should delay every answer by slowMs', async () => {
    ha.sim.setFaults({ slowMs: 300 });
    const started = performance.now();
    expect((await ha.get('/api/')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('should drop connections while down, and answer again once up', async () => {
    ha.sim.setFaults({ down: true });
    await expect(ha.get('/api/')).rejects.toThrow();
    // The control endpoints stay up, so a test can bring HA back over HTTP.
    const up = await fetch(`${ha.sim.url}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ down: false }),
    });
    expect(await up.json()).toEqual({ down: false });
    expect((await ha.get('/api/')).status).toBe(200);
  });

  it('should refuse a bad fault plan with 400', async () => {
    const res = await fetch(`${ha.sim.url}/_sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ slowMs: 'lots' }),
    });
    expect(res.status).toBe(400);
  });
});
