import { defineConfig } from 'vitest/config';

/**
 * One root config with a project per package, so `vitest run` runs the whole repo.
 *
 * Two groups, one after the other. First the files that share nothing (each test makes its own
 * data dir, binds port 0 and runs with mDNS off) run two at a time, one per core. Then the files
 * that cannot share the machine run one at a time: the network-namespace LANs (one LAN per
 * machine, fixed 198.18.0.0/15 addresses), the mesh package, whose conformance suite measures
 * floods and heartbeats against the clock, and the node's tests that wait on the mesh's clocks.
 */
const PACKAGES = [
  'packages/protocol',
  'packages/router',
  'packages/memory-sync',
  'packages/node',
  'packages/web',
  'simulations/ollama-sim',
  'simulations/ha-sim',
  'deploy',
];

/** Files that must run alone, by package: the whole package when the list is empty. */
const ALONE: Record<string, string[]> = {
  'packages/mesh': [],
  'simulations/lan': [],
  'packages/node': [
    // These build their hosts in network namespaces.
    'test/mesh.test.ts',
    'test/store-disk-full.test.ts',
    // These wait on the mesh's clocks (dial back-off, heartbeats, out-of-date notices), whose
    // pace a busy neighbour on two cores stretches past their bounds.
    'test/mesh-key-takeover.test.ts',
    'test/mesh-offline-removal.test.ts',
    'test/mesh-peer-names.test.ts',
    'test/mesh-redial.test.ts',
    'test/model-copy-liveness.test.ts',
  ],
};

const ALL = ['test/**/*.test.ts'];
const common = { testTimeout: 60_000, hookTimeout: 120_000 };
const name = (root: string) => root.split('/').pop() as string;

const shared = PACKAGES.map((root) => ({
  test: {
    ...common,
    name: name(root),
    root,
    include: ALL,
    exclude: ALONE[root] ?? [],
    maxWorkers: 2,
    sequence: { groupOrder: 0 },
  },
}));

const alone = Object.entries(ALONE).map(([root, files]) => ({
  test: {
    ...common,
    name: files.length === 0 ? name(root) : `${name(root)}-alone`,
    root,
    include: files.length === 0 ? ALL : files,
    fileParallelism: false,
    maxWorkers: 1,
    sequence: { groupOrder: 1 },
  },
}));

export default defineConfig({
  test: {
    passWithNoTests: true,
    projects: [...shared, ...alone],
  },
});
