import { DEFAULT_HOME, homeOfSize } from '../home.js';
import { check, type Scenario } from '../scenario.js';

/** How long a home of n nodes may take to see each other once all are up: mDNS every 2 s, plus slack for a loaded machine. */
export function meshBoundMs(nodes: number): number {
  return 30_000 + nodes * 4_000;
}

/** Builds the scenario that starts a home and waits until every node sees every other one. */
export function joinScenario(name: string, title: string, defaultNodes: number): Scenario {
  return {
    name,
    title,
    fresh: true,
    home: (options) => homeOfSize(options.nodes ?? defaultNodes),
    timeoutMs: (options) => meshBoundMs(options.nodes ?? defaultNodes) + 30_000,
    async run(ctx) {
      const { lan } = ctx;
      const n = lan.hosts.length;
      const meshMs = await lan.waitForMesh({ timeoutMs: meshBoundMs(n) });
      const fullMeshAt = performance.now();
      ctx.figure('node start to healthy, slowest', Math.max(...lan.hosts.map((h) => h.startupMs)));
      ctx.figure('node start to healthy, median', median(lan.hosts.map((h) => h.startupMs)));
      ctx.figure('first node spawned to full mesh', fullMeshAt - lan.nodesSpawnedAt);
      ctx.figure('last node healthy to full mesh', fullMeshAt - lan.readyAt);
      ctx.log(`all ${n} nodes see each other (${Math.round(meshMs)} ms of waiting)`);
      // The cards carry the models: every node must see what each peer has.
      const expected = new Map(lan.hosts.map((h) => [h.spec.name, h.spec.models]));
      for (const host of lan.hosts) {
        const peers = await host.client.peers();
        check(peers.length >= n - 1, `${host.spec.name} lists ${peers.length} peers, expected ${n - 1}`);
        for (const peer of peers.filter((p) => p.status === 'online')) {
          for (const model of expected.get(peer.name) ?? []) {
            check(
              peer.models.includes(model),
              `${host.spec.name} does not see ${model} on ${peer.name} (sees ${peer.models.join(', ')})`,
            );
          }
        }
      }
      const rtts =
        (await lan.hosts[0]?.client.peers())?.map((p) => p.rttMs).filter((r): r is number => r !== null) ??
        [];
      if (rtts.length > 0) ctx.figure(`mesh RTT from ${lan.hosts[0]?.spec.name}, median`, median(rtts));
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** join: the default three-node home forms a mesh by itself over mDNS. */
export const join = joinScenario('join', 'Join: every node finds every other node', DEFAULT_HOME.length);

/** big-home: a 20-node home (cpu profile, one model each) forms a full mesh within a bound. */
export const bigHome = joinScenario(
  'big-home',
  'A big home (20 nodes unless --nodes): everyone sees everyone',
  20,
);
