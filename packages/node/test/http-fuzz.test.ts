/**
 * A route-aware HTTP fuzzer: every route the real node registers (collected with Fastify's
 * onRoute hook) gets fast-check-generated bodies (from its schema when it has one), query strings
 * and path parameters, over real HTTP on loopback. Nothing may answer a 5xx other than 502/503,
 * and the backend, which is up throughout, must never be reported down.
 */
import { channel } from 'node:diagnostics_channel';
import fc from 'fast-check';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { parseOllamaUrl } from '../src/backend/ollama-backend.js';
import { UPDATE_SETTINGS } from '../src/update/update-source.js';
import {
  concretePath,
  type FieldHints,
  fromSchema,
  genericBody,
  type JsonSchema,
  queryString,
  toJsonText,
} from './helpers/request-arbitraries.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

const MODEL = 'llama3.2:3b';
const EMBEDDER = 'all-minilm:latest';

/**
 * Runs per route, and the whole fuzzer's time budget: bounded, so CI stays fast. FUZZ_RUNS and
 * FUZZ_BUDGET_MS raise them for a deeper run by hand.
 */
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 40);
const TOTAL_BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 40_000);
/** The fewest runs per route, on average, for the fuzzer to count as having run. */
const MIN_RUNS_PER_ROUTE = 5;
/** A request that takes longer is abandoned (a long but legitimate generation), not a failure. */
const REQUEST_TIMEOUT_MS = 5_000;

/** Field names the node's handlers read; the generic bodies draw from them. */
const BODY_FIELDS = [
  'agentName',
  'allerac',
  'author',
  'chat',
  'chatModel',
  'code',
  'cron',
  'currentPassword',
  'dimensions',
  'embeddingModel',
  'enabled',
  'encoding_format',
  'input',
  'k',
  'keep',
  'keep_alive',
  'kind',
  'language',
  'max_tokens',
  'messages',
  'model',
  'name',
  'newPassword',
  'options',
  'passphrase',
  'password',
  'peers',
  'prompt',
  'query',
  'role',
  'setupCode',
  'since',
  'space',
  'specializations',
  'stop',
  'stream',
  'tags',
  'text',
  'threshold',
  'tools',
  'until',
  'username',
] as const;
const QUERY_KEYS = [
  'limit',
  'offset',
  'model',
  'policy',
  'node',
  'specialization',
  'author',
  'cursor',
  'since',
  'until',
  'space',
  'tag',
  'dir',
  'code',
] as const;

/** Whether Settings would take `text` as its Ollama URL. */
function isUsableOllamaUrl(text: string): boolean {
  try {
    parseOllamaUrl(text);
    return true;
  } catch {
    return false;
  }
}

/** Real model names often, so requests reach the backend; short answers, so runs stay quick. */
/** The simulator's URL once it runs: a settings change may only point the node back at it. */
let simUrl = '';

const HINTS: FieldHints = {
  model: fc.oneof(fc.constantFrom(MODEL, EMBEDDER), fc.string({ maxLength: 12 })),
  // A valid `ollamaUrl` really switches the backend, so the fuzzer offers only the one it runs on
  // besides junk: otherwise the health check at the end would measure the fuzzer's own choices.
  // Junk is what Settings refuses: a short string is often a host name ("ab", or "9", which is
  // http://0.0.0.9:11434), and the node rightly switches to it and finds nothing there.
  ollamaUrl: fc.oneof(
    fc.string({ maxLength: 12 }).filter((text) => !isUsableOllamaUrl(text)),
    fc.constant(null).map(() => simUrl),
  ),
  num_predict: fc.integer({ min: -2, max: 16 }),
  num_ctx: fc.integer({ min: -2, max: 4_096 }),
};

interface Failure {
  route: string;
  counterexample: string;
}

/** Statuses that mean "no backend can serve", the only 5xx an API may answer. */
const ALLOWED_5XX = new Set([502, 503]);

describe('http fuzzer: no route answers 500', () => {
  let t: TestNode;
  let routes: RouteOptions[];
  let admin: string;
  const health: string[] = [];

  beforeAll(async () => {
    // Fastify publishes each new instance here before any route exists: the place to watch them all.
    const created = channel('fastify.initialization');
    const seen: RouteOptions[] = [];
    const onInstance = (message: unknown) => {
      (message as { fastify: FastifyInstance }).fastify.addHook('onRoute', (route) => {
        seen.push(route);
      });
    };
    created.subscribe(onInstance);
    try {
      t = await startTestNode({ sim: { profile: 'fast', models: [MODEL, EMBEDDER] } });
    } finally {
      created.unsubscribe(onInstance);
    }
    routes = seen;
    admin = issueAdminToken(t.dataDir);
    // An update check may only ever reach loopback (a refused port), whatever the fuzzer enables.
    await t.node.store.settings.set(UPDATE_SETTINGS.source, {
      kind: 'url',
      url: 'http://127.0.0.1:9/m.json',
    });
    simUrl = t.sim?.url ?? '';
    t.node.backend.onHealthChange((h) => health.push(h.state));
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('should collect every route of the node, with the schemas of the inference APIs', () => {
    const urls = new Set(routes.map((route) => route.url));
    for (const url of ['/api/chat', '/v1/chat/completions', '/allerac/v1/memories', '/health']) {
      expect(urls).toContain(url);
    }
    expect(routes.find((route) => route.url === '/api/chat')?.schema?.body).toBeDefined();
    expect(routes.length).toBeGreaterThan(50);
  });

  it(
    'should answer every generated request to every route with something other than a 500',
    async () => {
      const failures: Failure[] = [];
      const targets = routes.flatMap((route) =>
        [route.method].flat().map((method) => ({ method: String(method), route })),
      );
      const perRouteMs = Math.floor(TOTAL_BUDGET_MS / targets.length);
      let runs = 0;
      for (const { method, route } of targets) {
        const schema = route.schema as { body?: JsonSchema } | undefined;
        const hasBody = !['GET', 'HEAD', 'OPTIONS'].includes(method);
        const body = schema?.body !== undefined ? fromSchema(schema.body, HINTS) : genericBody(BODY_FIELDS);
        const request = fc.record({
          path: concretePath(route.url),
          query: queryString(QUERY_KEYS),
          body: hasBody ? fc.option(body, { freq: 10 }) : fc.constant(null),
          json: fc.boolean(),
        });
        const result = await fc.check(
          fc.asyncProperty(request, async ({ path, query, body: payload, json }) => {
            const url = `${t.node.url}${path}${query}`;
            const text = payload === null ? undefined : toJsonText(payload);
            const { status, answer } = await send(method, url, text, json);
            if (status >= 500 && !ALLOWED_5XX.has(status)) {
              throw new Error(
                `${method} ${url.slice(0, 300)} with ${text?.slice(0, 300)} answered ${status}: ${answer.slice(0, 300)}`,
              );
            }
          }),
          { numRuns: RUNS_PER_ROUTE, interruptAfterTimeLimit: perRouteMs, markInterruptAsFailure: false },
        );
        runs += result.numRuns;
        // Interrupted before a single run ended: the route's first request outlasted its share of
        // the budget (a stream that never ends), which is not a 500.
        if (result.failed && !result.interrupted) {
          failures.push({
            route: `${method} ${route.url}`,
            counterexample: `${String(result.errorInstance).slice(0, 400)} (seed ${result.seed})`,
          });
        }
      }
      expect(failures).toEqual([]);
      // It did fuzz: a fair number of runs per route. How many fit in the budget depends on the
      // machine's load (CI runs two files at a time on two cores), so this is a floor, not a rate.
      expect(runs).toBeGreaterThan(targets.length * MIN_RUNS_PER_ROUTE);
      // The backend was up all along: no input may have it reported unreachable.
      expect(health.filter((state) => state !== 'up')).toEqual([]);
    },
    TOTAL_BUDGET_MS * 3,
  );

  /** One request over real HTTP: the status once the headers are in (a stream is not read to its end). */
  async function send(
    method: string,
    url: string,
    body: string | undefined,
    json: boolean,
  ): Promise<{ status: number; answer: string }> {
    const headers: Record<string, string> = { authorization: `Bearer ${admin}` };
    if (body !== undefined && json) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') return { status: 0, answer: 'timed out' };
      throw error;
    }
    const type = response.headers.get('content-type') ?? '';
    if (type.includes('event-stream') || type.includes('ndjson')) {
      await response.body?.cancel();
      return { status: response.status, answer: '(a stream)' };
    }
    return { status: response.status, answer: await response.text().catch(() => '') };
  }
});
