/**
 * `npm run bench -- memory [--sizes 10000,100000] [--queries 200] [--trials 30] [--space-size 1000]`
 *
 * 1. Propagation: alice shares one memory into "household", held by 4 peers over libp2p on
 *    loopback (whole nodes from createNode, in one process); time until each peer's document has it, and until it is indexed.
 * 2. Initial sync: a 1,000-memory space reaches a newly joined node; time until all are searchable.
 * 3. Search latency and recall@10 against exact search, for N memories of 384 dimensions in
 *    embedded PGlite with pgvector HNSW, at several ef_search values.
 * 4. Bytes on the wire per shared memory (all sync frames both ways, per peer) against its text.
 *
 * Embeddings come from ollama-sim (fast profile, all-minilm: 384 dims) for 1, 2 and 4; the search
 * corpus of 3 is synthetic clustered unit vectors, like real sentence embeddings.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type AlleracNode, createNode, type Mesh, openStore, resolveStartConfig } from '@allerac/node';
import { startOllamaSim } from '@allerac/ollama-sim';
import { percentile, type Row, report } from './_report.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    queries: { type: 'string', default: '200' },
    trials: { type: 'string', default: '30' },
    'space-size': { type: 'string', default: '1000' },
    'ef-search': { type: 'string', default: '40,64,100' },
    m: { type: 'string', default: '16' },
    'ef-construction': { type: 'string', default: '64' },
    skip: { type: 'string', default: '' },
  },
});
const skip = new Set(args.skip.split(',').filter(Boolean));
const rows: Row[] = [];
const extra: Record<string, unknown> = {};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  everyMs = 2,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One frame a node sent. */
interface SentFrame {
  from: string;
  bytes: Uint8Array;
}

/** A whole node on loopback (no mDNS), as the bench drives it. */
interface Peer {
  name: string;
  node: AlleracNode;
  mesh: Mesh;
  memory: AlleracNode['memory'];
  store: AlleracNode['store'];
}

async function meshBenches(): Promise<void> {
  const sim = await startOllamaSim({ profile: 'fast', models: ['all-minilm:latest'] });
  const root = mkdtempSync(join(tmpdir(), 'allerac-bench-memory-'));
  const frames: SentFrame[] = [];
  const peers: Peer[] = [];
  const start = async (name: string): Promise<Peer> => {
    const dataDir = join(root, name);
    mkdirSync(dataDir, { recursive: true });
    const config = resolveStartConfig(
      {
        name,
        dataDir,
        httpPort: '0',
        p2pPort: '0',
        p2pHost: '127.0.0.1',
        mdns: 'off',
        bootstrap: '',
        ollamaUrl: sim.url,
        meshKeyFile: join(root, 'mesh.key'),
        logLevel: 'silent',
      },
      {},
    );
    const node = await createNode(config, {
      onSyncFrame: (_peer, bytes) => frames.push({ from: name, bytes }),
    });
    await node.start();
    const peer = { name, node, mesh: node.mesh.mesh, memory: node.memory, store: node.store };
    peers.push(peer);
    return peer;
  };
  const link = async (a: Peer, b: Peer) => {
    await a.mesh.connect(b.mesh.addresses()[0] as string);
    await until(
      () => b.mesh.peers().some((p) => p.id === a.mesh.peerId && p.status === 'online'),
      20_000,
      'link',
    );
  };
  try {
    const alice = await start('alice');
    const others = await Promise.all(['bob', 'charlie', 'dave', 'erin'].map(start));
    for (const peer of others) await link(peer, alice);
    for (const peer of [alice, ...others]) await peer.memory.createSpace('household', { peers: 'all' });
    await sleep(500);

    // 1 and 4: propagation and bytes per memory.
    const trials = Number(args.trials);
    const docMs: number[] = [];
    const indexedMs: number[] = [];
    const bytesPerMemory: number[] = [];
    const text = 'the dishwasher filter was changed in March and the next change is due in September';
    for (let t = 0; t < trials; t++) {
      const id = `probe-${t}`;
      const arrived = new Map<string, number>();
      const unsubscribe = others.map((peer) =>
        peer.memory.spaces.onChange((event) => {
          if (event.upserted.some((m) => m.id === id) && !arrived.has(peer.name))
            arrived.set(peer.name, performance.now());
        }),
      );
      const framesBefore = frames.length;
      const started = performance.now();
      await alice.memory.spaces.put('household', {
        id,
        text: `${text} (${t})`,
        tags: [],
        source: 'user',
        createdAt: Date.now(),
        updatedAt: Date.now(),
      });
      await until(() => arrived.size === others.length, 20_000, 'propagation');
      for (const at of arrived.values()) docMs.push(at - started);
      await Promise.all(
        others.map(async (peer) => {
          await until(
            async () => (await peer.store.memories.get(id))?.embeddingModel != null,
            20_000,
            'indexed',
          );
          indexedMs.push(performance.now() - started);
        }),
      );
      for (const off of unsubscribe) off();
      await sleep(50);
      const bytes = frames.slice(framesBefore).reduce((sum, f) => sum + f.bytes.length, 0);
      bytesPerMemory.push(bytes / others.length);
    }
    const textBytes = Buffer.byteLength(`${text} (10)`);
    rows.push({
      bench: 'propagation to 4 peers (document)',
      p50: `${percentile(docMs, 50).toFixed(1)} ms`,
      p95: `${percentile(docMs, 95).toFixed(1)} ms`,
      target: 'p50 <= 150 ms',
    });
    rows.push({
      bench: 'propagation to 4 peers (searchable)',
      p50: `${percentile(indexedMs, 50).toFixed(1)} ms`,
      p95: `${percentile(indexedMs, 95).toFixed(1)} ms`,
      target: '',
    });
    rows.push({
      bench: 'bytes on the wire per shared memory per peer',
      p50: `${percentile(bytesPerMemory, 50).toFixed(0)} B`,
      p95: `${percentile(bytesPerMemory, 95).toFixed(0)} B`,
      target: `text ${textBytes} B (x${(percentile(bytesPerMemory, 50) / textBytes).toFixed(1)})`,
    });

    // 2: initial sync of a big space to a new node.
    const size = Number(args['space-size']);
    for (let i = 0; i < size; i++) {
      await alice.memory.spaces.put('household', {
        id: `bulk-${i}`,
        text: `household note ${i}: ${['oven', 'garden', 'car', 'bins', 'boiler', 'school'][i % 6]} item ${i * 7}`,
        tags: [],
        source: 'import',
        createdAt: Date.now(),
        updatedAt: Date.now(),
      });
    }
    const total = alice.memory.spaces.memories('household').length;
    const frank = await start('frank');
    await frank.memory.createSpace('household', { peers: 'all' });
    const started = performance.now();
    const framesBefore = frames.length;
    await link(frank, alice);
    let docAt = 0;
    await until(
      () => {
        if (docAt === 0 && frank.memory.spaces.memories('household').length === total)
          docAt = performance.now();
        return docAt !== 0;
      },
      60_000,
      'initial sync',
    );
    await until(
      async () => {
        const [row] = await frank.store.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM memories WHERE embedding IS NOT NULL',
        );
        return (row?.n ?? 0) >= total;
      },
      120_000,
      'initial sync searchable',
      // Polling the same embedded database too often would slow the inserts it measures.
      25,
    );
    const searchable = performance.now() - started;
    const syncBytes = frames.slice(framesBefore).reduce((sum, f) => sum + f.bytes.length, 0);
    rows.push({
      bench: `initial sync of ${total} memories to a new node`,
      p50: `${(docAt - started).toFixed(0)} ms doc / ${searchable.toFixed(0)} ms searchable`,
      p95: '',
      target: 'searchable <= 3000 ms',
    });
    extra.initialSync = {
      memories: total,
      docMs: docAt - started,
      searchableMs: searchable,
      bytes: syncBytes,
    };
    extra.propagation = { docMs, indexedMs, bytesPerMemory, textBytes };
  } finally {
    for (const peer of peers) await peer.node.stop().catch(() => {});
    await sim.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Deterministic PRNG (mulberry32). */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Clustered unit vectors, like sentence embeddings; queries come from the same distribution. */
function makeCorpus(n: number, queries: number, dims: number, seed: number) {
  const random = prng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const centers = Array.from({ length: Math.max(10, Math.floor(n / 100)) }, () =>
    Float32Array.from({ length: dims }, gauss),
  );
  const sample = () => {
    const center = centers[Math.floor(random() * centers.length)]!;
    const v = Float32Array.from({ length: dims }, (_, i) => center[i]! + 0.6 * gauss());
    const norm = Math.hypot(...v);
    for (let i = 0; i < dims; i++) v[i]! /= norm;
    return v;
  };
  return { vectors: Array.from({ length: n }, sample), queries: Array.from({ length: queries }, sample) };
}

async function searchBench(n: number): Promise<void> {
  const dims = 384;
  // In memory: the search bench measures pgvector, not the disk.
  const store = await openStore({});
  try {
    const { vectors, queries } = makeCorpus(n, Number(args.queries), dims, 42);
    const loadStart = performance.now();
    // Bulk load without the index, then build it once: far faster than incremental inserts.
    await store.db.exec(`DROP INDEX IF EXISTS memories_embedding_hnsw_${dims}`);
    const batch = 500;
    for (let i = 0; i < n; i += batch) {
      const values: string[] = [];
      for (let j = i; j < Math.min(n, i + batch); j++) {
        values.push(
          `('m${j}', 'memory ${j}', 'bench', '[${Array.from(vectors[j]!, (x) => x.toFixed(6)).join(',')}]', 'all-minilm:latest', ${dims})`,
        );
      }
      await store.db.exec(
        `INSERT INTO memories (id, text, author_node, embedding, embedding_model, embedding_dims) VALUES ${values.join(',')}`,
      );
    }
    const loadedMs = performance.now() - loadStart;
    const indexStart = performance.now();
    await store.db.exec(
      `SET maintenance_work_mem = '512MB';
       CREATE INDEX memories_embedding_hnsw_${dims} ON memories
       USING hnsw ((embedding::vector(${dims})) vector_cosine_ops) WITH (m = ${Number(args.m)}, ef_construction = ${Number(args['ef-construction'])})
       WHERE embedding_dims = ${dims}`,
    );
    const indexMs = performance.now() - indexStart;
    // Exact top-10 by brute force in JS.
    const exact = queries.map((q) => {
      const scored = vectors.map((v, i) => {
        let dot = 0;
        for (let d = 0; d < dims; d++) dot += q[d]! * v[d]!;
        return [dot, i] as const;
      });
      scored.sort((a, b) => b[0] - a[0]);
      return new Set(scored.slice(0, 10).map(([, i]) => `m${i}`));
    });
    for (const ef of args['ef-search'].split(',').map(Number)) {
      const times: number[] = [];
      let hits = 0;
      // Warm-up so the index pages are cached.
      for (const q of queries.slice(0, 10)) {
        await store.memories.search({
          vector: Array.from(q),
          model: 'all-minilm:latest',
          k: 10,
          efSearch: ef,
        });
      }
      for (const [qi, q] of queries.entries()) {
        const t0 = performance.now();
        const found = await store.memories.search({
          vector: Array.from(q),
          model: 'all-minilm:latest',
          k: 10,
          efSearch: ef,
        });
        times.push(performance.now() - t0);
        for (const hit of found) if (exact[qi]!.has(hit.id)) hits++;
      }
      rows.push({
        bench: `search ${n} x ${dims}d, ef_search ${ef}`,
        p50: `${percentile(times, 50).toFixed(2)} ms`,
        p95: `${percentile(times, 95).toFixed(2)} ms`,
        target: `recall@10 ${(hits / (queries.length * 10)).toFixed(3)}`,
      });
    }
    rows.push({
      bench: `index ${n} x ${dims}d (m ${args.m}, ef_construction ${args['ef-construction']})`,
      p50: `load ${(loadedMs / 1000).toFixed(1)} s`,
      p95: `build ${(indexMs / 1000).toFixed(1)} s`,
      target: '',
    });
    extra[`index${n}`] = {
      loadMs: loadedMs,
      indexBuildMs: indexMs,
      m: Number(args.m),
      efConstruction: Number(args['ef-construction']),
    };
  } finally {
    await store.close();
  }
}

if (!skip.has('mesh')) await meshBenches();
if (!skip.has('search')) for (const n of args.sizes.split(',').map(Number)) await searchBench(n);
report('memory', rows, extra);
process.exit(0);
