import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** Runs the lint's boundary check in `cwd` and returns what it found. */
async function cruise(cwd: string, paths: string[]): Promise<Violation[]> {
  const args = [DEPCRUISE, ...paths, '--config', CONFIG, '--output-type', 'json'];
  // The check exits non-zero when it finds errors; its report is on stdout either way.
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd, maxBuffer: 64 << 20 }).catch(
    (error: { stdout?: string }) => {
      if (typeof error.stdout !== 'string' || error.stdout === '') throw error;
      return { stdout: error.stdout };
    },
  );
  return (JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

const pairs = (violations: Violation[]) =>
  violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();

describe('import boundaries (npm run lint)', () => {
  let fixture: string;

  beforeAll(() => {
    fixture = mkdtempSync(join(tmpdir(), 'allerac-boundaries-'));
    const files: Record<string, string> = {
      'tsconfig.test.json': JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
      }),
      'packages/node/src/http/errors.ts': 'export class HttpError extends Error {}\n',
      'packages/node/src/ui/session.ts': 'export interface Session { id: string }\n',
      'packages/node/src/errors.ts': 'export class DomainError extends Error {}\n',
      // A domain module that throws an HTTP error: the thing the check exists to refuse.
      'packages/node/src/memory/leaky.ts':
        "import { HttpError } from '../http/errors.js';\nexport const fail = () => new HttpError();\n",
      // Type-only is still a dependency on HTTP.
      'packages/node/src/accounts/typed.ts':
        "import type { Session } from '../ui/session.js';\nexport const id = (s: Session) => s.id;\n",
      // Typed on the framework's request: HTTP too.
      'node_modules/fastify/package.json': JSON.stringify({
        name: 'fastify',
        main: 'fastify.js',
        types: 'fastify.d.ts',
      }),
      'node_modules/fastify/fastify.js': 'module.exports = {};\n',
      'node_modules/fastify/fastify.d.ts': 'export interface FastifyRequest { url: string }\n',
      'packages/node/src/memory/typed-on-fastify.ts':
        "import type { FastifyRequest } from 'fastify';\nexport const url = (r: FastifyRequest) => r.url;\n",
      // A domain module that imports a route module.
      'packages/node/src/inference/calls-a-route.ts':
        "import { route } from '../memory/memory-api.js';\nexport const r = route;\n",
      // Allowed: domain errors from the domain, the HTTP layer from the HTTP layer and the root.
      'packages/node/src/inference/clean.ts':
        "import { DomainError } from '../errors.js';\nexport const e = new DomainError();\n",
      'packages/node/src/memory/memory-api.ts':
        "import { HttpError } from '../http/errors.js';\nimport { fail } from './leaky.js';\nexport const route = () => [new HttpError(), fail()];\n",
      'packages/node/src/daemon.ts':
        "import { HttpError } from './http/errors.js';\nexport const h = HttpError;\n",
      // Another package's src/ or test/: refused (no exception is left; web tests use @allerac/node).
      'packages/node/test/helpers/test-node.ts': 'export const start = () => 1;\n',
      'packages/web/src/app.ts':
        "import { e } from '../../node/src/inference/clean.js';\nexport const a = e;\n",
      'packages/web/test/ui.test.ts':
        "import { start } from '../../node/test/helpers/test-node.js';\nexport const s = start;\n",
      'packages/web/test/sneaky.test.ts':
        "import { e } from '../../node/src/inference/clean.js';\nexport const s = e;\n",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(fixture, path)), { recursive: true });
      writeFileSync(join(fixture, path), text);
    }
  });

  afterAll(() => {
    rmSync(fixture, { recursive: true, force: true });
  });

  it('should reject domain modules that import the HTTP layer, and foreign src/ or test/ outside the exceptions', async () => {
    expect(pairs(await cruise(fixture, ['packages']))).toEqual([
      'no-domain-to-http: packages/node/src/accounts/typed.ts -> packages/node/src/ui/session.ts',
      'no-domain-to-http: packages/node/src/inference/calls-a-route.ts -> packages/node/src/memory/memory-api.ts',
      'no-domain-to-http: packages/node/src/memory/leaky.ts -> packages/node/src/http/errors.ts',
      'no-domain-to-http: packages/node/src/memory/typed-on-fastify.ts -> node_modules/fastify/fastify.js',
      'no-foreign-internals: packages/web/src/app.ts -> packages/node/src/inference/clean.ts',
      'no-foreign-internals: packages/web/test/sneaky.test.ts -> packages/node/src/inference/clean.ts',
      'no-foreign-internals: packages/web/test/ui.test.ts -> packages/node/test/helpers/test-node.ts',
    ]);
  });

  it('should find no violation in the repository', async () => {
    expect(pairs(await cruise(ROOT, ['packages', 'simulations', 'scripts']))).toEqual([]);
  });
});
