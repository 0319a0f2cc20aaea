/**
 * Import boundaries, checked by `npm run lint` (dependency-cruiser).
 *
 * 1. Domain code knows nothing of HTTP. It raises domain errors (packages/node/src/errors.ts);
 *    only the HTTP layer maps them to statuses and error shapes. The HTTP layer is http/, ui/,
 *    and the route modules named *-api.ts or *-routes.ts; daemon.ts, the composition root that
 *    wires the server, is the one other module that may reach it.
 * 2. A package uses another only through its published entry point, never its src/ or test/.
 */

/** The node's HTTP layer, and the framework under it. */
const HTTP_LAYER = [
  '^packages/node/src/(http|ui)/',
  '^packages/node/src/.+-(api|routes)\\.ts$',
  '^node_modules/(fastify|@fastify/)',
];

/**
 * Imports of another package's src/ or test/ that are allowed for now. None: the web tests and
 * the benchmarks build nodes through the node package's index (createNode). An entry names the
 * importing folder and exactly what it reaches into.
 */
const KNOWN_FOREIGN_INTERNALS = [];

/**
 * TEMPORARY: domain modules that still reach the HTTP layer, each with exactly what it reaches.
 * None now: the API contract (contract/) owns its schemas, and the HTTP layer imports them.
 */
const KNOWN_DOMAIN_TO_HTTP = [];

module.exports = {
  forbidden: [
    {
      name: 'no-domain-to-http',
      comment:
        'A domain module imports the HTTP layer. Throw a domain error from packages/node/src/errors.ts ' +
        '(mapped in http/errors.ts) and take plain values, not a FastifyRequest.',
      severity: 'error',
      from: {
        path: '^packages/node/src/',
        pathNot: [
          ...HTTP_LAYER,
          '^packages/node/src/daemon\\.ts$',
          ...KNOWN_DOMAIN_TO_HTTP.map((e) => e.from),
        ],
      },
      to: { path: HTTP_LAYER },
    },
    ...KNOWN_DOMAIN_TO_HTTP.map((entry) => ({
      name: 'no-domain-to-http',
      comment: 'Outside the temporary exception listed in .dependency-cruiser.cjs.',
      severity: 'error',
      from: { path: entry.from },
      to: { path: HTTP_LAYER, pathNot: entry.to },
    })),
    {
      name: 'no-foreign-internals',
      comment:
        "A package imports another package's src/ or test/. Import its published entry point " +
        '(its package name) instead.',
      severity: 'error',
      from: {
        path: '^(packages|simulations)/([^/]+)/',
        pathNot: KNOWN_FOREIGN_INTERNALS.map((entry) => entry.from),
      },
      to: { path: '^(packages|simulations)/([^/]+)/(src|test)/', pathNot: '^$1/$2/' },
    },
    ...KNOWN_FOREIGN_INTERNALS.map((entry) => ({
      name: 'no-foreign-internals',
      comment: 'Outside the temporary exception listed in .dependency-cruiser.cjs.',
      severity: 'error',
      from: { path: entry.from },
      to: {
        path: '^(packages|simulations)/([^/]+)/(src|test)/',
        pathNot: [entry.to, entry.own],
      },
    })),
  ],
  options: {
    // Packages are seen as dependencies (fastify counts as HTTP) but not cruised themselves.
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    // Type-only imports count: a domain module typed on FastifyRequest depends on HTTP all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'default'],
      extensions: ['.ts', '.tsx', '.js', '.d.ts'],
    },
  },
};
