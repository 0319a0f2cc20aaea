import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteInferenceError } from '../src/inference/errors.js';
import { DEFAULT_SLOTS, peerLimits } from '../src/inference/local-load.js';
import { remoteInference } from '../src/inference/remote-inference.js';
import { type BarePeer, startBarePeer } from './helpers/bare-peer.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

/** A short queue (ALLERAC_MAX_QUEUE), so that filling it takes a handful of generations. */
const QUEUE = 16;

const MODEL = 'llama3.2:3b';

describe('infer service: a peer flooding inference streams gets its share of the slots, no more', () => {
  let alice: TestNode;
  let mallory: BarePeer;
  const flood = new AbortController();

  beforeAll(async () => {
    alice = await startTestNode({
      name: 'alice',
      sim: { profile: 'gpu', models: [MODEL], preload: [MODEL] },
      maxQueue: QUEUE,
    });
    mallory = await startBarePeer({
      name: 'mallory',
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
      peerOf: alice.node.mesh.mesh.peerId,
    });
  }, 120_000);

  afterAll(async () => {
    flood.abort(new Error('test over'));
    await mallory?.stop();
    await alice?.teardown();
  });

  it("should refuse a flood past the peer's share and still serve this node's own chat at once", async () => {
    const share = peerLimits({ slots: DEFAULT_SLOTS, queueLimit: QUEUE, peerShare: 0.5 });
    // Enough to fill every slot and the whole queue, as the flood in the issue did.
    const streams = DEFAULT_SLOTS + QUEUE;
    const settled = { running: 0, busy: 0, other: [] as string[] };
    for (let i = 0; i < streams; i++) {
      const chunks = remoteInference(
        mallory.mesh,
        alice.node.mesh.mesh.peerId,
        {
          type: 'infer-request',
          id: randomUUID(),
          api: 'chat',
          model: MODEL,
          // 4,000 tokens at 160 tok/s: each generation holds its slot for the whole test.
          body: {
            messages: [{ role: 'user', content: 'a very long story' }],
            options: { num_predict: 4000 },
          },
          deadlineMs: 600_000,
        },
        flood.signal,
        { firstChunkMs: 120_000, idleMs: 30_000 },
      );
      chunks.next().then(
        () => {
          settled.running += 1;
        },
        (error: unknown) => {
          if (error instanceof RemoteInferenceError && error.code === 'busy') settled.busy += 1;
          else if (!flood.signal.aborted) settled.other.push(String(error));
        },
      );
    }
    // Those within the share of the queue wait for a slot; every other stream answers now.
    await waitFor(
      () => settled.running + settled.busy + settled.other.length >= streams - share.queue,
      15_000,
      "every stream beyond mallory's share to be answered",
    );
    expect(settled).toEqual({ running: share.slots, busy: streams - share.slots - share.queue, other: [] });
    await waitFor(
      () => alice.sim!.stats().active === share.slots,
      10_000,
      `mallory's ${share.slots} generations to run`,
    );

    const started = performance.now();
    const response = await fetch(`${alice.node.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: 'user', content: 'and my own question?' }],
        options: { num_predict: 20 },
        stream: false,
      }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { allerac: { node: string } }).allerac.node).toBe('alice');
    // It ran beside the flood, not behind it (the flood's generations last 25 s).
    expect(performance.now() - started).toBeLessThan(5_000);
  }, 120_000);
});
