/**
 * Pre-warm across processes: alice (no backend) routes short chats for the 8B to charlie, a
 * mini-PC that has it loaded, while bob, a GPU box, would serve it best once it is in memory.
 * With `routing.prewarm` on, the demand makes alice send bob Ollama's load request; off, nothing
 * is sent; a model that fits nowhere is never loaded.
 */
import { join } from 'node:path';
import {
  type HardwareProfile,
  type OllamaSim,
  PROFILES,
  type SimModel,
  startOllamaSim,
} from '@allerac/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeProcess, startNodeProcess } from './helpers/node-process.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const BIG = 'llama3.1:8b';
const SMALL = 'llama3.2:3b';
/** Far larger than this machine's memory: no node can load it. */
const GIANT: SimModel = {
  name: 'giant:405b',
  family: 'llama',
  parameterSize: '405B',
  quantization: 'Q4_K_M',
  sizeBytes: 240e9,
  capabilities: ['completion'],
};

/** A GPU box with a slow disk (a load costs ~3 s, so short chats go to a warm node meanwhile). */
const gpuBox: HardwareProfile = {
  ...PROFILES.gpu!,
  name: 'gpu-box',
  tokensPerSecond: 300,
  ttftMs: 20,
  promptEvalTokensPerSecond: 20_000,
  loadMsPerGB: 600,
};
const miniPc: HardwareProfile = { ...PROFILES.cpu!, name: 'mini-pc', tokensPerSecond: 40, ttftMs: 100 };

interface Peer {
  sim: OllamaSim;
  node: NodeProcess;
}

describe('pre-warm: a model in demand is loaded where it serves best, only when allowed and when it fits', () => {
  let alice: TestNode;
  const peers = new Map<string, Peer>();
  let admin: string;

  const chat = async (model: string, extra: Record<string, unknown> = {}) => {
    const response = await fetch(`${alice.node.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        messages: [{ role: 'user', content: 'a short question' }],
        stream: false,
        // 32 tokens: ~2 s on charlie, ~0.5 s on bob once warm, ~5 s with bob's load first.
        options: { num_predict: 32 },
        ...extra,
      }),
    });
    await response.arrayBuffer();
    return { status: response.status, node: response.headers.get('x-allerac-node') };
  };
  const loadsOn = (name: string, model: string) =>
    peers
      .get(name)!
      .sim.requests()
      .filter(
        (r) => r.path === '/api/generate' && (JSON.parse(r.body) as { model?: string }).model === model,
      );
  const psOf = async (name: string) =>
    (
      (await (await fetch(`${peers.get(name)!.sim.url}/api/ps`)).json()) as {
        models: Array<{ name: string }>;
      }
    ).models.map((m) => m.name);
  const setPrewarm = async (prewarm: boolean) => {
    const response = await alice.node.http.inject({
      method: 'PATCH',
      url: '/allerac/v1/settings',
      headers: { authorization: `Bearer ${admin}` },
      payload: { prewarm },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().settings['routing.prewarm']).toBe(prewarm);
  };

  beforeAll(async () => {
    alice = await startTestNode({ name: 'alice', sim: false });
    const { issueAdminToken } = await import('../src/auth/api-tokens.js');
    admin = await issueAdminToken(alice.dataDir, 'test');
    const { addresses } = (await (
      await alice.node.http.inject({ url: '/allerac/v1/node', headers: { authorization: `Bearer ${admin}` } })
    ).json()) as { addresses: string[] };
    const homes: Array<[string, HardwareProfile, Array<string | SimModel>, string[]]> = [
      ['bob', gpuBox, [SMALL, BIG, GIANT], [SMALL]],
      ['charlie', miniPc, [BIG], [BIG]],
    ];
    for (const [name, profile, models, preload] of homes) {
      const sim = await startOllamaSim({ profile, models, preload, recordRequests: true });
      const node = await startNodeProcess({
        name,
        ollamaUrl: sim.url,
        meshKeyFile: join(alice.dataDir, 'mesh.key'),
        bootstrap: addresses,
      });
      peers.set(name, { sim, node });
    }
    await waitFor(
      () =>
        alice.node.mesh.peers().filter((p) => p.status === 'online' && p.backend.state === 'up').length === 2,
      30_000,
      'alice to see bob and charlie',
    );
    // What alice learns first: bob's speed on the 3B (this machine has no GPU for its card to
    // show, so only measurements tell bob is the fast one), and charlie's on the 8B.
    for (let i = 0; i < 2; i++) {
      expect((await chat(SMALL, { allerac: { node: 'bob' } })).node).toBe('bob');
      expect((await chat(BIG, { allerac: { node: 'charlie' } })).node).toBe('charlie');
    }
  }, 120_000);

  afterAll(async () => {
    for (const { sim, node } of peers.values()) {
      await node.stop();
      await sim.close();
    }
    await alice?.teardown();
  });

  it('should send nothing while the setting is off (the default), then load the 8B on bob once it is on', async () => {
    for (let i = 0; i < 4; i++) expect(await chat(BIG)).toEqual({ status: 200, node: 'charlie' });
    // Off: the pre-warmer reads the setting and stops there, before any ranking or request.
    expect(loadsOn('bob', BIG)).toEqual([]);
    expect(await psOf('bob')).toEqual([SMALL]);

    await setPrewarm(true);
    // A model that fits on no node is in demand too: it is never sent anywhere.
    for (let i = 0; i < 3; i++) expect((await chat(GIANT.name)).status).toBeGreaterThanOrEqual(400);
    for (let i = 0; i < 3; i++) expect((await chat(BIG)).status).toBe(200);
    await waitFor(async () => (await psOf('bob')).includes(BIG), 30_000, 'bob to have the 8B loaded');
    // The load is Ollama's documented one: a generate request with the model and no prompt.
    const loads = loadsOn('bob', BIG);
    expect(loads).toHaveLength(1);
    const load = JSON.parse(loads.at(-1)!.body) as Record<string, unknown>;
    expect(load.prompt ?? '').toBe('');
    expect(load.messages).toBeUndefined();
    expect(loadsOn('bob', GIANT.name)).toEqual([]);
    // Once bob's card says so, the next chat goes there.
    await waitFor(
      async () => {
        const ranking = (await (
          await alice.node.http.inject({
            url: `/allerac/v1/route?model=${BIG}&maxTokens=32`,
            headers: { authorization: `Bearer ${admin}` },
          })
        ).json()) as Array<{ name: string; terms?: { loadState: string } }>;
        return ranking.find((r) => r.name === 'bob')?.terms?.loadState === 'loaded';
      },
      30_000,
      "bob's card to show the 8B loaded",
    );
    expect((await chat(BIG)).node).toBe('bob');
  });
});
