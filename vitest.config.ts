import { defineConfig } from 'vitest/config';

/** One root config with a project per package, so `vitest run` runs the whole repo. */
const roots = [
  'packages/protocol',
  'packages/router',
  'packages/memory-sync',
  'packages/node',
  'packages/web',
  'simulations/ollama-sim',
  'simulations/lan',
  'deploy',
];

export default defineConfig({
  test: {
    passWithNoTests: true,
    projects: roots.map((root) => ({
      test: {
        name: root.split('/').pop(),
        root,
        include: ['test/**/*.test.ts'],
        testTimeout: 30_000,
        hookTimeout: 60_000,
      },
    })),
  },
});
