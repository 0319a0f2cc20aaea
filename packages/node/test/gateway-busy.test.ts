import { join } from 'node:path';
import { FramedStream, INFER_CHANNEL_PROTOCOL, MAX_INFER_IN_FLIGHT } from '@allerac/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SLOTS } from '../src/inference/local-load.js';
import { startBarePeer } from './helpers/bare-peer.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

/** A short queue (ALLERAC_MAX_QUEUE), so that filling it takes a handful of generations. */
const QUEUE = 16;

const MODEL = 'llama3.2:3b';
/** Below the HTTP server's 64 connections per client, above what alice and her share of bob take. */
const CONCURRENT = 48;

interface Outcome {
  status: number;
  retryAfter: string | null;
  error?: string | undefined;
}

/** Sends a chat to `node` and reads the whole answer. */
async function chat(
  node: TestNode,
  content: string,
  extra: Record<string, unknown> = {},
  signal?: AbortSignal,
): Promise<Outcome> {
  const response = await fetch(`${node.node.url}/api/chat`, {
    method: 'POST',
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], stream: false, ...extra }),
    signal: signal ?? null,
  });
  const body = (await response.json()) as { error?: string };
  return { status: response.status, retryAfter: response.headers.get('retry-after'), error: body.error };
}

describe('a busy mesh answers 503 with Retry-After, never 502', () => {
  let alice: TestNode;

  beforeAll(async () => {
    // The gpu profile: 4 slots at 160 tok/s on this model.
    alice = await startTestNode({
      name: 'alice',
      sim: { profile: 'gpu', models: [MODEL], preload: [MODEL] },
      maxQueue: QUEUE,
    });
  }, 120_000);

  afterAll(async () => {
    await alice?.teardown();
  });

  it(`should answer each of ${CONCURRENT} concurrent chats with 200, or with 503 and Retry-After, wherever it lands`, async () => {
    const bob = await startTestNode({
      name: 'bob',
      sim: { profile: 'gpu', models: [MODEL], preload: [MODEL] },
      maxQueue: QUEUE,
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    });
    try {
      await waitFor(
        () =>
          alice.node.mesh
            .peers()
            .some((p) => p.name === 'bob' && p.status === 'online' && p.models.includes(MODEL)),
        30_000,
        'alice to see bob with the model',
      );
      // 400 tokens hold a slot for 2.5 s, so the chats overlap, and more arrive than alice runs
      // and queues plus her share of bob's slots and queue.
      const results = await Promise.all(
        Array.from({ length: CONCURRENT }, (_, i) =>
          chat(alice, `question number ${i}`, { options: { num_predict: 400 } }),
        ),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s !== 200 && s !== 503)).toEqual([]);
      const refused = results.filter((r) => r.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(r.retryAfter).toMatch(/^\d+$/);
        expect(r.error).toMatch(/busy/);
      }
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2 * DEFAULT_SLOTS);
    } finally {
      await bob.teardown();
    }
  }, 120_000);

  it('should answer 503 with Retry-After when this node is busy and the peer resets the stream', async () => {
    // A peer whose card offers the model but that speaks no inference protocol: every stream to
    // it is reset before a single frame, as a crashing or overloaded peer's would be.
    const mallory = await startBarePeer({
      name: 'mallory-resets',
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
      peerOf: alice.node.mesh.mesh.peerId,
      models: [MODEL],
    });
    const occupy = new AbortController();
    try {
      await waitFor(
        () => alice.node.mesh.peers().some((p) => p.name === 'mallory-resets' && p.models.includes(MODEL)),
        30_000,
        'alice to see the peer with the model',
      );
      // Fill every local slot and the whole queue with long answers.
      const held = DEFAULT_SLOTS + QUEUE;
      for (let i = 0; i < held; i++) {
        void chat(
          alice,
          `occupy ${i}`,
          { options: { num_predict: 4000 }, allerac: { node: 'alice' } },
          occupy.signal,
        ).catch(() => {});
      }
      await waitFor(
        async () =>
          (await alice.node.gateway.explain(MODEL))
            .find((p) => p.nodeName === 'alice')
            ?.reason.includes(`queue ${held}/${DEFAULT_SLOTS}`) === true,
        15_000,
        'every local slot and queue place to be taken',
      );
      const refused = await chat(alice, 'one more');
      expect(refused.status).toBe(503);
      expect(refused.retryAfter).toMatch(/^\d+$/);
      expect(refused.error).toMatch(/busy/);
    } finally {
      occupy.abort();
      await waitFor(
        async () =>
          (await alice.node.gateway.explain(MODEL))
            .find((p) => p.nodeName === 'alice')
            ?.reason.includes(`queue 0/${DEFAULT_SLOTS}`) === true,
        15_000,
        'the local slots to free up',
      );
      await mallory.stop();
    }
  }, 120_000);

  it('should not open more inference streams to a peer than it accepts, and call the rest busy', async () => {
    const limit = MAX_INFER_IN_FLIGHT;
    let open = 0;
    let most = 0;
    // A peer that takes every inference request and holds it, as a peer with a long queue does.
    const mallory = await startBarePeer({
      name: 'mallory-holds',
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
      peerOf: alice.node.mesh.mesh.peerId,
      models: [MODEL],
      handlers: {
        // One channel carries every request: each is held until the caller cancels it.
        [INFER_CHANNEL_PROTOCOL]: async (stream) => {
          const framed = new FramedStream(stream, {
            protocol: INFER_CHANNEL_PROTOCOL,
            firstFrameTimeoutMs: 0,
          });
          const held = new Set<string>();
          try {
            for await (const message of framed.messages()) {
              if (message.type === 'infer-request') held.add(message.id);
              else if (message.type === 'infer-cancel') held.delete(message.id);
              open = held.size;
              most = Math.max(most, open);
            }
          } catch {
            // The caller went away.
          } finally {
            open = 0;
            framed.abort(new Error('done'));
          }
        },
      },
    });
    const waiting = new AbortController();
    try {
      await waitFor(
        () => alice.node.mesh.peers().some((p) => p.name === 'mallory-holds' && p.models.includes(MODEL)),
        30_000,
        'alice to see the peer with the model',
      );
      const extra = 8;
      const answered: Outcome[] = [];
      for (let i = 0; i < limit + extra; i++) {
        void chat(alice, `held ${i}`, { allerac: { node: 'mallory-holds' } }, waiting.signal)
          .then((outcome) => answered.push(outcome))
          .catch(() => {});
      }
      await waitFor(() => open === limit && answered.length === extra, 15_000, 'the streams past the limit');
      expect(most).toBe(limit);
      for (const r of answered) {
        expect(r.status).toBe(503);
        expect(r.retryAfter).toMatch(/^\d+$/);
        expect(r.error).toMatch(/is busy \(1 tried\)/);
      }
    } finally {
      waiting.abort();
      await waitFor(() => open === 0, 15_000, 'the held streams to close');
      await mallory.stop();
    }
  }, 120_000);
});
