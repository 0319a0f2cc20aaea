import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidSpaceInputError } from '@allerac/memory-sync';
import { type OllamaSim, startOllamaSim } from '@allerac/ollama-sim';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BackendModel, OllamaObject } from '../src/backend/backend.js';
import type { InferenceGateway } from '../src/inference/gateway.js';
import { CHAT_LOOKUP_BUDGET_MS } from '../src/memory/constants.js';
import { createMemoryService, type MemoryService } from '../src/memory/memory-service.js';
import { openPgliteDatabase } from '../src/store/pglite-database.js';
import type { Database } from '../src/store/sql.js';
import { createStore, type Store } from '../src/store/store.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A database that records every statement sent through it. */
function recording(db: Database, statements: string[]): Database {
  const client = <T extends { query: Database['query']; exec: Database['exec'] }>(target: T) =>
    new Proxy(target, {
      get(inner, property, receiver) {
        if (property === 'query')
          return (text: string, params?: readonly unknown[]) => {
            statements.push(text);
            return inner.query(text, params);
          };
        if (property === 'exec')
          return (text: string) => {
            statements.push(text);
            return inner.exec(text);
          };
        if (property === 'transaction')
          return (fn: Parameters<Database['transaction']>[0]) => db.transaction((tx) => fn(client(tx)));
        const value = Reflect.get(inner, property, receiver);
        return typeof value === 'function' ? value.bind(inner) : value;
      },
    });
  return client(db);
}

/**
 * This node's embedding backend in a box: vectors whose dimension depends on the model, or,
 * while `hold` is set, calls that never answer and end only when their signal aborts.
 */
class TestEmbeddings implements InferenceGateway {
  hold = false;
  /** The signals of the embedding calls made so far. */
  readonly signals: AbortSignal[] = [];
  private heldListeners: Array<() => void> = [];

  constructor(private readonly dims: Record<string, number>) {}

  /** Resolves once an embedding call is being held. */
  held(): Promise<void> {
    return new Promise((resolve) => this.heldListeners.push(resolve));
  }

  async embedLocally(request: OllamaObject, signal: AbortSignal): Promise<OllamaObject> {
    this.signals.push(signal);
    if (this.hold) {
      for (const listener of this.heldListeners.splice(0)) listener();
      return new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    const dims = this.dims[String(request.model)] ?? 4;
    const texts = request.input as string[];
    return {
      embeddings: texts.map((text) =>
        Array.from({ length: dims }, (_, i) => 1 + ((text.charCodeAt(i % text.length) * (i + 1)) % 7)),
      ),
    };
  }

  async localModels(): Promise<BackendModel[]> {
    return [];
  }
  models(): never {
    throw new Error('not used by the memory service');
  }
  loaded(): never {
    throw new Error('not used by the memory service');
  }
  show(): never {
    throw new Error('not used by the memory service');
  }
  version(): never {
    throw new Error('not used by the memory service');
  }
  generate(): never {
    throw new Error('not used by the memory service');
  }
  embed(): never {
    throw new Error('not used by the memory service');
  }
}

describe('a chat’s memory lookup', () => {
  let store: Store;
  let memory: MemoryService;
  let embeddings: TestEmbeddings;
  const statements: string[] = [];
  const indexStatements = () =>
    statements.filter((s) => /CREATE INDEX[\s\S]*memories_embedding_hnsw/i.test(s));

  beforeEach(async () => {
    statements.length = 0;
    store = await createStore(recording(await openPgliteDatabase(undefined), statements));
    statements.length = 0; // the migrations' own indexes are not the service's doing
    embeddings = new TestEmbeddings({ 'all-minilm:latest': 4, wide: 8 });
    memory = createMemoryService('alice', { store, gateway: embeddings, logger });
    await memory.start();
    await memory.add({ text: 'the garage safe code is 7391' });
  });

  afterEach(async () => {
    await memory?.stop();
    await store?.close();
  });

  it('should neither embed nor query for a chat while no memory exists, and find one once it does', async () => {
    const [only] = (await memory.list({}, 10)).memories;
    await memory.delete(only!.id);
    statements.length = 0;
    const embedCalls = embeddings.signals.length;
    expect(await memory.forChat('what about the garage safe?')).toEqual([]);
    expect(statements).toEqual([]);
    expect(embeddings.signals.length).toBe(embedCalls);

    await memory.add({ text: 'the garage safe code is 7391' });
    const found = await memory.forChat('what about the garage safe?');
    expect(found.map((hit) => hit.text)).toEqual(['the garage safe code is 7391']);
  });

  it('should create the vector index once per embedding model and dimension, not on every query', async () => {
    expect(indexStatements()).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
      expect(await memory.search({ query: 'garage safe' })).toHaveLength(1);
      expect(await memory.forChat('what about the garage safe?')).toHaveLength(1);
    }
    expect(indexStatements()).toHaveLength(1);

    await memory.setEmbeddingModel('wide');
    await memory.embeddingIdle();
    expect((await memory.embeddingStatus()).active).toBe('wide');
    for (let i = 0; i < 5; i++) expect(await memory.search({ query: 'garage safe' })).toHaveLength(1);
    expect(indexStatements()).toHaveLength(2);
    expect(indexStatements()[1]).toContain('vector(8)');
  });

  it('should refuse names that the settings and space documents cannot store, as bad input', async () => {
    // A lone surrogate is a valid JS string but not UTF-8: PostgreSQL's jsonb refuses it.
    await expect(memory.setEmbeddingModel('\ud800')).rejects.toBeInstanceOf(InvalidSpaceInputError);
    await expect(memory.createSpace('family', { peers: ['\udfff'] })).rejects.toBeInstanceOf(
      InvalidSpaceInputError,
    );
    expect((await memory.embeddingStatus()).model).toBe('all-minilm:latest');
  });

  it('should stop when the client goes away, and answer without memories', async () => {
    embeddings.hold = true;
    const client = new AbortController();
    const held = embeddings.held();
    const lookup = memory.forChat('what about the garage safe?', {}, 0, client.signal);
    await held;
    client.abort(new Error('client gone'));
    expect(await lookup).toEqual([]);
    expect(embeddings.signals.at(-1)?.aborted).toBe(true);
  }, 10_000);

  it('should give up after its budget when the embedding model does not answer', async () => {
    await memory.stop();
    // A service with a short budget, so the test waits for it rather than for the default.
    memory = createMemoryService(
      'alice',
      { store, gateway: embeddings, logger },
      { chatLookupBudgetMs: 100 },
    );
    await memory.start();
    embeddings.hold = true;
    const started = performance.now();
    expect(await memory.forChat('what about the garage safe?')).toEqual([]);
    expect(performance.now() - started).toBeLessThan(CHAT_LOOKUP_BUDGET_MS);
    const signal = embeddings.signals.at(-1)!;
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).name).toBe('TimeoutError');
  }, 10_000);
});

/**
 * A loopback proxy in front of ollama-sim that, while `hold` is set, keeps /api/embed requests
 * unanswered and reports when the node closes one.
 */
class HoldingProxy {
  hold = false;
  readonly events: Array<{ kind: 'held' | 'released'; at: number }> = [];
  private server: Server | undefined;

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    const target = new URL(this.target);
    this.server = createServer((req, res) => {
      if (this.hold && req.url === '/api/embed') {
        this.events.push({ kind: 'held', at: performance.now() });
        res.on('close', () => this.events.push({ kind: 'released', at: performance.now() }));
        return;
      }
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('a chat’s memory lookup over HTTP', () => {
  let sim: OllamaSim;
  let proxy: HoldingProxy;
  let t: TestNode;

  beforeAll(async () => {
    sim = await startOllamaSim({ profile: 'fast', models: ['llama3.2:3b', 'all-minilm:latest'] });
    proxy = new HoldingProxy(sim.url);
    t = await startTestNode({ name: 'alice', sim: false, ollamaUrl: await proxy.start() });
    await t.node.memory.add({ text: 'the garage safe code is 7391' });
  });

  afterAll(async () => {
    await t?.teardown();
    await proxy?.close();
    await sim?.close();
  });

  it("should cancel the node's embedding request as soon as the chat's client goes away", async () => {
    proxy.hold = true;
    const client = new AbortController();
    const answer = fetch(`${t.node.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({
        model: 'llama3.2:3b',
        messages: [{ role: 'user', content: 'what about the garage safe?' }],
      }),
      signal: client.signal,
    }).catch((error: unknown) => error);
    await waitFor(() => proxy.events.some((e) => e.kind === 'held'), 10_000, 'the lookup to embed');
    const abortedAt = performance.now();
    client.abort();
    await answer;
    await waitFor(
      () => proxy.events.some((e) => e.kind === 'released'),
      10_000,
      'the embedding to be cancelled',
    );
    const releasedAt = proxy.events.find((e) => e.kind === 'released')!.at;
    // Well before the lookup's own budget could have ended it: it was the client's leaving.
    expect(releasedAt - abortedAt).toBeLessThan(CHAT_LOOKUP_BUDGET_MS / 2);
  });
});
