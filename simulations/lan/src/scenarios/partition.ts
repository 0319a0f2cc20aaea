import { DEFAULT_HOME } from '../home.js';
import type { LanHost } from '../lan.js';
import { check, type Scenario } from '../scenario.js';
import { waitUntil } from '../wait.js';

const SPACE = 'household';
/** How long shared memories may take to reach every node once the home is whole. */
const CONVERGENCE_BOUND_MS = 60_000;

async function finds(host: LanHost, text: string): Promise<boolean> {
  const { results } = await host.client.post<{ results: { text: string }[] }>('/allerac/v1/memories/search', {
    query: text,
    space: SPACE,
    k: 10,
  });
  return results.some((r) => r.text === text);
}

/**
 * partition: the home splits (kitchen + office | bedroom), each side writes a shared memory, the
 * home heals, and every node ends up with both.
 */
export const partitionHeal: Scenario = {
  name: 'partition',
  title: 'Partition and heal: shared memories written on both sides converge',
  home: () => DEFAULT_HOME.map((h) => ({ ...h })),
  timeoutMs: () => 180_000,
  async run(ctx) {
    const { lan } = ctx;
    for (const host of lan.hosts) {
      const spaces = await host.client.get<{ spaces: { name: string }[] }>('/allerac/v1/spaces');
      if (!spaces.spaces.some((s) => s.name === SPACE)) {
        await host.client.post('/allerac/v1/spaces', { name: SPACE, peers: 'all' });
      }
    }
    const kitchen = lan.host('kitchen');
    const bedroom = lan.host('bedroom');
    const before = `shopping list before the split ${Date.now()}`;
    await kitchen.client.post('/allerac/v1/memories', { text: before, space: SPACE });
    await waitUntil(async () => ((await finds(bedroom, before)) ? true : undefined), {
      timeoutMs: CONVERGENCE_BOUND_MS,
      what: 'a shared memory to reach bedroom before the split',
    });

    lan.partition(['kitchen', 'office'], ['bedroom']);
    ctx.log('partitioned: kitchen + office | bedroom');
    const t0 = performance.now();
    await waitUntil(
      async () => {
        const a = await lan.onlinePeers('kitchen');
        const b = await lan.onlinePeers('bedroom');
        return !a.includes('bedroom') && b.length === 0 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'both sides to notice the split' },
    );
    ctx.figure('split: detection time', performance.now() - t0);

    const stamp = Date.now();
    const fromKitchen = `the boiler was serviced in May ${stamp}`;
    const fromBedroom = `the spare key is under the blue pot ${stamp}`;
    await kitchen.client.post('/allerac/v1/memories', { text: fromKitchen, space: SPACE });
    await bedroom.client.post('/allerac/v1/memories', { text: fromBedroom, space: SPACE });
    check(!(await finds(bedroom, fromKitchen)), 'bedroom has kitchen’s memory during the split');

    lan.heal();
    ctx.log('healed');
    const t1 = performance.now();
    await waitUntil(
      async () => {
        for (const host of lan.hosts) {
          if (!(await finds(host, fromKitchen)) || !(await finds(host, fromBedroom))) return undefined;
        }
        return true;
      },
      {
        timeoutMs: CONVERGENCE_BOUND_MS,
        intervalMs: 250,
        what: 'both memories to reach every node after the heal',
      },
    );
    ctx.figure('heal: convergence time (both memories on every node)', performance.now() - t1);
  },
};
