/**
 * The two-node home the client matrix runs against: alice holds a chat model and an embedding
 * model, bob another chat model and a thinking one. A case runs "local" (the client talks to the
 * node holding the model) and "peer" (to the other node, so the mesh must carry it).
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import { startTestNode, type TestNode, waitFor } from './test-node.js';

/** Alice's chat model: completion and tools. */
export const CHAT = 'llama3.2:3b';
/** Bob's chat model. */
export const BOB_CHAT = 'mistral:7b';
/** Bob's thinking model. */
export const THINKER = 'qwen3:8b';
/** Alice's embedding model and the length of its vectors. */
export const EMBED = 'all-minilm:latest';
export const EMBED_DIMENSIONS = 384;

export const SCOPES = ['local', 'peer'] as const;
/** Where a case's client points: at the node holding the model, or at the other one. */
export type Scope = (typeof SCOPES)[number];

/** The inference paths a case may reach on a simulator. */
const INFERENCE_PATHS = new Set(['/api/chat', '/api/generate', '/api/embed', '/api/embeddings']);

export interface MatrixHome {
  alice: TestNode;
  bob: TestNode;
  /** The node holding `model`. */
  holder(model: string): TestNode;
  /** The node a client of this scope talks to for `model`. */
  entry(scope: Scope, model: string): TestNode;
  /**
   * Runs `act`, then checks that only the holder's Ollama got inference requests for `model`
   * while it ran, and returns what `act` returned.
   */
  served<T>(model: string, act: () => Promise<T>): Promise<T>;
  /** The body of the last inference request for `model` its holder's Ollama received. */
  lastBody(model: string): Record<string, unknown>;
  teardown(): Promise<void>;
}

export async function startMatrixHome(): Promise<MatrixHome> {
  const alice = await startTestNode({
    name: 'alice',
    // Loaded, so the router never weighs whether they fit this machine's memory.
    sim: { profile: 'fast', models: [CHAT, EMBED], preload: [CHAT, EMBED], recordRequests: true },
  });
  const bob = await startTestNode({
    name: 'bob',
    sim: { profile: 'fast', models: [BOB_CHAT, THINKER], preload: [BOB_CHAT, THINKER], recordRequests: true },
    meshKeyFile: join(alice.dataDir, 'mesh.key'),
    bootstrap: alice.node.mesh.mesh.addresses(),
  });
  const sees = (a: TestNode, name: string, models: string[]) =>
    a.node.mesh
      .peers()
      .some((p) => p.name === name && p.status === 'online' && models.every((m) => p.models.includes(m)));
  await waitFor(
    () => sees(alice, 'bob', [BOB_CHAT, THINKER]) && sees(bob, 'alice', [CHAT, EMBED]),
    30_000,
    'alice and bob to see each other with their models',
  );
  const holds = (t: TestNode, model: string) => (model === CHAT || model === EMBED ? t === alice : t === bob);
  const holder = (model: string) => (holds(alice, model) ? alice : bob);
  const inferenceFor = (t: TestNode, model: string, since: number) =>
    (t.sim?.requests() ?? []).filter(
      (r) =>
        r.receivedAt >= since &&
        INFERENCE_PATHS.has(r.path) &&
        (JSON.parse(r.body) as { model?: string }).model === model,
    );
  return {
    alice,
    bob,
    holder,
    entry: (scope, model) => (scope === 'local' ? holder(model) : holder(model) === alice ? bob : alice),
    async served(model, act) {
      const since = Date.now();
      const result = await act();
      const other = holder(model) === alice ? bob : alice;
      expect(
        inferenceFor(holder(model), model, since).length,
        `requests for ${model} at its holder`,
      ).toBeGreaterThan(0);
      expect(inferenceFor(other, model, since)).toEqual([]);
      return result;
    },
    lastBody(model) {
      const last = inferenceFor(holder(model), model, 0).at(-1);
      if (last === undefined) throw new Error(`no request for ${model} reached its holder`);
      return JSON.parse(last.body) as Record<string, unknown>;
    },
    async teardown() {
      await bob.teardown();
      await alice.teardown();
    },
  };
}
