import { DEFAULT_HOME } from '../home.js';
import { check, type Scenario } from '../scenario.js';
import { waitUntil } from '../wait.js';

/** How long the others may take to notice a host is gone: heartbeats every 1 s, 2.5 missed, plus slack. */
const DETECTION_BOUND_MS = 30_000;
/** How long a host may take to be back in everyone's list. */
const REJOIN_BOUND_MS = 60_000;

/** leave-and-rejoin: bedroom is unplugged and plugged back; then its node is SIGKILLed and restarted. */
export const leaveRejoin: Scenario = {
  name: 'leave-rejoin',
  title: 'Leave and rejoin: a host unplugged, then a node crashed and restarted',
  home: () => DEFAULT_HOME.map((h) => ({ ...h })),
  timeoutMs: () => 2 * (DETECTION_BOUND_MS + REJOIN_BOUND_MS) + 60_000,
  async run(ctx) {
    const { lan } = ctx;
    const leaver = 'bedroom';
    const others = lan.hosts.map((h) => h.spec.name).filter((n) => n !== leaver);
    const notSeen = async () => {
      const views = await Promise.all(others.map((n) => lan.onlinePeers(n)));
      return views.every((online) => !online.includes(leaver)) ? true : undefined;
    };

    let t0 = performance.now();
    lan.cutOff(leaver);
    ctx.log(`${leaver} unplugged`);
    await waitUntil(notSeen, {
      timeoutMs: DETECTION_BOUND_MS,
      intervalMs: 100,
      what: `the others to notice ${leaver} is gone`,
    });
    ctx.figure('unplugged: detection time', performance.now() - t0);
    t0 = performance.now();
    lan.restore(leaver);
    ctx.log(`${leaver} plugged back in`);
    await lan.waitForMesh({
      timeoutMs: REJOIN_BOUND_MS,
      what: `${leaver} to rejoin after the cable is back`,
    });
    ctx.figure('plugged back: rejoin time', performance.now() - t0);

    t0 = performance.now();
    lan.killNode(leaver);
    ctx.log(`${leaver}'s node SIGKILLed`);
    await waitUntil(notSeen, {
      timeoutMs: DETECTION_BOUND_MS,
      intervalMs: 100,
      what: `the others to notice ${leaver} crashed`,
    });
    ctx.figure('crashed: detection time', performance.now() - t0);
    t0 = performance.now();
    await lan.restartNode(leaver);
    const healthyMs = performance.now() - t0;
    await lan.waitForMesh({ timeoutMs: REJOIN_BOUND_MS, what: `${leaver} to rejoin after a restart` });
    ctx.figure('restarted: process start to healthy', healthyMs);
    ctx.figure('restarted: process start to rejoined', performance.now() - t0);
    // Same data dir, same peer id: the others must not list it twice.
    for (const name of others) {
      const entries = (await lan.host(name).client.peers()).filter((p) => p.name === leaver);
      check(entries.length === 1, `${name} lists ${leaver} ${entries.length} times after the restart`);
    }
  },
};
