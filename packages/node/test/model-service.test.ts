import { join } from 'node:path';
import { FramedStream, MODEL_PROTOCOL, type ModelProtocolMessage } from '@allerac/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BarePeer, startBarePeer } from './helpers/bare-peer.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

describe('model service: a peer runs one model action at a time here', () => {
  let alice: TestNode;
  let mallory: BarePeer;

  beforeAll(async () => {
    // A slow line: a pull takes seconds, long enough to overlap a second one.
    alice = await startTestNode({ name: 'alice', sim: { profile: 'cpu', models: ['llama3.2:3b'] } });
    mallory = await startBarePeer({
      name: 'mallory',
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
      peerOf: alice.node.mesh.mesh.peerId,
    });
    await waitFor(
      () => alice.node.mesh.peers().some((p) => p.name === 'mallory' && p.status === 'online'),
      30_000,
      'alice to see mallory',
    );
  }, 120_000);

  afterAll(async () => {
    await mallory?.stop();
    await alice?.teardown();
  });

  const open = async (id: string, model: string) => {
    const stream = await mallory.mesh.openStream(alice.node.mesh.mesh.peerId, MODEL_PROTOCOL);
    const framed = new FramedStream(stream, { protocol: MODEL_PROTOCOL });
    await framed.write({ type: 'model-request', id, action: 'pull', body: { model } });
    return framed;
  };

  it('should refuse a second action while the first runs, and stop the first when the peer leaves it', async () => {
    const first = await open('a', 'qwen3:8b');
    const progress = (await first.read()) as ModelProtocolMessage;
    expect(progress).toEqual({ type: 'model-progress', id: 'a', progress: { status: 'pulling manifest' } });
    const second = await open('b', 'gemma3:4b');
    expect(await second.read()).toEqual({
      type: 'model-error',
      id: 'b',
      status: 429,
      message: 'this peer already has a model action running here',
    });
    first.abort(new Error('done watching'));
    // Once the first is stopped the peer may act again; the unfinished pull is listed nowhere.
    await waitFor(
      async () => {
        const third = await open('c', 'no-such-model:1b');
        let last: ModelProtocolMessage | undefined;
        for (let m = await third.read(); m !== undefined; m = await third.read())
          last = m as ModelProtocolMessage;
        return last?.type === 'model-error' && last.status === 500;
      },
      10_000,
      'the slot to be free again',
    );
    const names = (await (await fetch(`${alice.sim!.url}/api/tags`)).json()) as {
      models: Array<{ name: string }>;
    };
    expect(names.models.map((m) => m.name)).not.toContain('qwen3:8b');
  });
});
