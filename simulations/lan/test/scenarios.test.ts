/**
 * Runs the LAN scenarios in network namespaces (needs root; CI runs as root). One run of all
 * scenarios in beforeAll, then one test per scenario, so each shows up on its own. The leftover
 * sweep is tested first, in this file, so it never races a running LAN.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findLeftovers,
  findScenario,
  formatReport,
  lanUnavailableReason,
  netemUnavailableReason,
  PREFIX,
  runScenarios,
  type Scenario,
  type ScenarioResult,
  sweepLeftovers,
} from '../src/index.js';
import { ip } from '../src/shell.js';

const unavailable = lanUnavailableReason();
/** The 20-node home takes several minutes here; CI runs a smaller one, docs/simulation.md has the 20-node figures. */
const BIG_HOME_NODES = 8;
const NAMES = [
  'join',
  'routing',
  'leave-rejoin',
  'partition',
  'lossy-wifi',
  'host-killed',
  'wake',
  'big-home',
];

describe.skipIf(unavailable !== undefined)(
  `leftover sweep${unavailable ? ` — SKIPPED: ${unavailable}` : ''}`,
  () => {
    it('should remove namespaces and links left by a crashed run', () => {
      ip('netns', 'add', `${PREFIX}crashed`);
      ip('link', 'add', `${PREFIX}crash0`, 'type', 'veth', 'peer', 'name', `${PREFIX}crash1`);
      try {
        const before = findLeftovers();
        expect(before.namespaces).toContain(`${PREFIX}crashed`);
        expect(before.links).toContain(`${PREFIX}crash0`);
        const swept = sweepLeftovers();
        expect(swept.namespaces).toContain(`${PREFIX}crashed`);
        expect(findLeftovers()).toEqual({ namespaces: [], links: [] });
      } finally {
        sweepLeftovers();
      }
    });
  },
);

describe.skipIf(unavailable !== undefined)(
  `home LAN scenarios in network namespaces${unavailable ? ` — SKIPPED: ${unavailable}` : ''}`,
  () => {
    const results = new Map<string, ScenarioResult>();

    // Bounded for every scenario and its LAN starts; the wake scenario's home is a LAN of its own.
    beforeAll(async () => {
      const pick = (names: string[]) =>
        names.map((n) => findScenario(n)).filter((s): s is Scenario => s !== undefined);
      const lines: string[] = [];
      const ran = [
        ...(await runScenarios(pick(NAMES.filter((n) => n !== 'big-home')), { log: (l) => lines.push(l) })),
        ...(await runScenarios(pick(['big-home']), { nodes: BIG_HOME_NODES, log: (l) => lines.push(l) })),
      ];
      for (const r of ran) results.set(r.name, r);
      console.log(formatReport(ran));
    }, 480_000);

    afterAll(() => {
      // Whatever happened, the run must leave nothing behind.
      const left = findLeftovers();
      expect(left.namespaces).toEqual([]);
      expect(left.links).toEqual([]);
    });

    const expectPassed = (name: string) => {
      const r = results.get(name);
      expect(r, `${name} did not run`).toBeDefined();
      expect(r?.reason ?? '').toBe('');
      expect(r?.status).toBe('passed');
      return r as ScenarioResult;
    };
    const figure = (r: ScenarioResult, prefix: string) =>
      r.figures.find((f) => f.name.startsWith(prefix))?.value;

    it('should form a full mesh of the three-node home over mDNS', () => {
      const r = expectPassed('join');
      expect(figure(r, 'first node spawned to full mesh')).toBeGreaterThan(0);
    });

    it('should send an 8B request on kitchen to office', () => {
      expectPassed('routing');
    });

    it('should notice an unplugged and a crashed host and take them back', () => {
      const r = expectPassed('leave-rejoin');
      expect(figure(r, 'unplugged: detection time')).toBeGreaterThan(0);
      expect(figure(r, 'restarted: process start to rejoined')).toBeGreaterThan(0);
    });

    const netem = netemUnavailableReason();
    it.skipIf(netem !== undefined)(
      `should join and chat over a lossy Wi-Fi link${netem ? ` — SKIPPED: ${netem}` : ''}`,
      () => {
        expectPassed('lossy-wifi');
      },
    );

    const pending = findScenario('partition')?.pending;
    it.skipIf(pending !== undefined)(
      `should converge shared memories written on both sides of a partition${pending ? ` — SKIPPED (${pending})` : ''}`,
      () => {
        const r = expectPassed('partition');
        expect(figure(r, 'heal: convergence time')).toBeGreaterThan(0);
      },
    );

    it('should complete an answer whose host was killed mid-stream', () => {
      const r = expectPassed('host-killed');
      expect(figure(r, 'failover gap')).toBeGreaterThan(0);
    });

    it('should wake a sleeping host with a magic packet for its MAC, and serve at once with waking off', () => {
      const r = expectPassed('wake');
      expect(figure(r, 'request to magic packet heard')).toBeGreaterThan(0);
    });

    it(`should form a full mesh of a ${BIG_HOME_NODES}-node home`, () => {
      const r = expectPassed('big-home');
      expect(r.nodes).toBe(BIG_HOME_NODES);
    });
  },
);
