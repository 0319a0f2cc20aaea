import { join } from 'node:path';
import { type OllamaSim, startOllamaSim } from '@allerac/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { type NodeProcess, startNodeProcess } from './helpers/node-process.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

/** Two full daemons: alice in this process, bob in its own, paired through alice's mesh key. */
describe('shared spaces between two running daemons', () => {
  let alice: TestNode;
  let bob: NodeProcess;
  let bobSim: OllamaSim;
  let aliceToken: string;
  let bobToken: string;
  const call = async (url: string, token: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}/allerac/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    alice = await startTestNode({ name: 'alice', sim: { profile: 'fast', models: ['all-minilm:latest'] } });
    aliceToken = issueAdminToken(alice.dataDir, 'test');
    const { addresses } = (await call(alice.node.url, aliceToken, 'GET', '/node')).body as {
      addresses: string[];
    };
    bobSim = await startOllamaSim({ profile: 'fast', models: ['all-minilm:latest'] });
    bob = await startNodeProcess({
      name: 'bob',
      ollamaUrl: bobSim.url,
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: addresses,
    });
    bobToken = issueAdminToken(bob.dataDir, 'test');
    await waitFor(
      () => alice.node.mesh.peers().some((p) => p.name === 'bob' && p.status === 'online'),
      30_000,
      'alice to see bob',
    );
  }, 120_000);

  afterAll(async () => {
    await bob?.stop();
    await bobSim?.close();
    await alice?.teardown();
  });

  it('should carry a shared memory to bob and keep a private one on alice', async () => {
    expect(
      (await call(alice.node.url, aliceToken, 'POST', '/spaces', { name: 'household', peers: 'all' })).status,
    ).toBe(201);
    expect(
      (await call(bob.url, bobToken, 'POST', '/spaces', { name: 'household', peers: 'all' })).status,
    ).toBe(201);
    await call(alice.node.url, aliceToken, 'POST', '/memories', {
      text: 'alice private: the diary key is in the drawer',
    });
    const shared = await call(alice.node.url, aliceToken, 'POST', '/memories', {
      text: 'the dishwasher filter was changed in March',
      space: 'household',
    });
    expect(shared.status).toBe(201);
    await waitFor(
      async () => {
        const { body } = await call(bob.url, bobToken, 'POST', '/memories/search', {
          query: 'dishwasher filter',
          k: 3,
        });
        return (body.results as Array<{ id: string }>).some((r) => r.id === shared.body.id);
      },
      30_000,
      'bob to find the shared memory',
    );
    const { body } = await call(bob.url, bobToken, 'POST', '/memories/search', {
      query: 'diary key drawer',
      k: 5,
    });
    expect((body.results as Array<{ text: string }>).map((r) => r.text)).not.toContain(
      'alice private: the diary key is in the drawer',
    );
  }, 60_000);
});
