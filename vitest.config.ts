import { defineConfig } from 'vitest/config';

/** One root config with a project per package, so `vitest run` runs the whole repo. */
const roots = [
  'packages/protocol',
  'packages/router',
  'packages/memory-sync',
  'packages/mesh',
  'packages/node',
  'packages/web',
  'simulations/ollama-sim',
  'simulations/ha-sim',
  'simulations/lan',
  'deploy',
];

export default defineConfig({
  test: {
    passWithNoTests: true,
    // Many suites run real nodes, browsers and network namespaces; on a 2-core machine they are
    // reliable one file at a time (timing assertions would otherwise measure the neighbours).
    fileParallelism: false,
    maxWorkers: 1,
    projects: roots.map((root) => ({
      test: {
        name: root.split('/').pop(),
        root,
        include: ['test/**/*.test.ts'],
        testTimeout: 60_000,
        hookTimeout: 120_000,
        fileParallelism: false,
      },
    })),
  },
});
