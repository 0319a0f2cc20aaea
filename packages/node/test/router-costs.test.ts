/**
 * The cost model across processes: alice (no backend) routes to peers whose ollama-sims have a
 * GPU's or a CPU's load and prompt-evaluation rates, and learns them from Ollama's metrics.
 */
import { join } from 'node:path';
import { type HardwareProfile, type OllamaSim, PROFILES, startOllamaSim } from '@allerac/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeProcess, startNodeProcess } from './helpers/node-process.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const BIG = 'llama3.1:8b';
const SMALL = 'llama3.2:3b';
const CODER = 'qwen2.5-coder:7b';
const CHAT = 'gemma3:4b';

/** A GPU box with a slow disk: fast prompts and tokens, ~0.6 s per GB to load. */
const gpuBox: HardwareProfile = {
  ...PROFILES.gpu!,
  name: 'gpu-box',
  tokensPerSecond: 300,
  referenceParamsB: 8,
  ttftMs: 20,
  promptEvalTokensPerSecond: 20_000,
  loadMsPerGB: 600,
};
/** A mini-PC, sped up: 600 prompt tokens/s, 40 tok/s at 3B. */
const miniPc: HardwareProfile = {
  ...PROFILES.cpu!,
  name: 'mini-pc',
  tokensPerSecond: 40,
  ttftMs: 100,
  promptEvalTokensPerSecond: 600,
  loadMsPerGB: 600,
};

interface Peer {
  sim: OllamaSim;
  node: NodeProcess;
}

describe('router costs: load, prompt evaluation and conversation affinity across processes', () => {
  let alice: TestNode;
  const peers = new Map<string, Peer>();

  const chat = async (
    model: string,
    content: string,
    extra: Record<string, unknown> = {},
    history: unknown[] = [],
  ) => {
    const response = await fetch(`${alice.node.url}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        messages: [...history, { role: 'user', content }],
        stream: false,
        options: { num_predict: 8 },
        ...extra,
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { message: { content: string } };
    return { node: response.headers.get('x-allerac-node'), content: body.message.content };
  };
  const pinned = (node: string) => ({ allerac: { node } });
  const route = async (model: string, query = '') =>
    (await (
      await alice.node.http.inject({
        url: `/allerac/v1/route?model=${model}${query}`,
        headers: { authorization: `Bearer ${await token(alice)}` },
      })
    ).json()) as Array<{
      name: string;
      eligible: boolean;
      reason: string;
      terms?: { loadState: string; loadSource: string; promptSource: string; promptEvalMs: number };
    }>;

  beforeAll(async () => {
    alice = await startTestNode({ name: 'alice', sim: false });
    const { addresses } = (await (
      await alice.node.http.inject({
        url: '/allerac/v1/node',
        headers: { authorization: `Bearer ${await token(alice)}` },
      })
    ).json()) as { addresses: string[] };
    const homes: Array<[string, HardwareProfile, string[], string[]]> = [
      ['bob', gpuBox, [SMALL, CODER, BIG], [SMALL]],
      ['charlie', miniPc, [BIG, CHAT], [BIG, CHAT]],
      ['dave', miniPc, [CHAT], [CHAT]],
    ];
    for (const [name, profile, models, preload] of homes) {
      const sim = await startOllamaSim({ profile, models, preload });
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
        alice.node.mesh.peers().filter((p) => p.status === 'online' && p.backend.state === 'up').length === 3,
      30_000,
      'alice to see bob, charlie and dave',
    );
    // What alice learns before routing: prompts of two lengths on each, and one cold load on bob.
    for (const length of [40, 2000]) {
      await chat(SMALL, 'w'.repeat(length), pinned('bob'));
      await chat(BIG, 'w'.repeat(length), pinned('charlie'));
      await chat(CHAT, 'w'.repeat(length), pinned('charlie'));
      await chat(CHAT, 'w'.repeat(length), pinned('dave'));
    }
    await chat(CODER, 'load me', pinned('bob'));
  }, 180_000);

  afterAll(async () => {
    for (const { sim, node } of peers.values()) {
      await node.stop();
      await sim.close();
    }
    await alice?.teardown();
  });

  it('should prefer a warm slower node when the load would dominate, and a cold faster one when it would not', async () => {
    const short = await route(BIG, '&promptTokens=10&maxTokens=8');
    const bob = short.find((r) => r.name === 'bob')!;
    expect(bob.terms).toMatchObject({ loadState: 'not loaded', loadSource: 'measured' });
    expect(short[0]!.name).toBe('charlie');
    expect((await chat(BIG, 'short question')).node).toBe('charlie');

    // 3,000 prompt tokens: ~5 s on the mini-PC, ~0.15 s plus a ~3 s load on the GPU box.
    const long = await route(BIG, '&promptTokens=3000&maxTokens=8');
    expect(long[0]!.name).toBe('bob');
    expect(long.find((r) => r.name === 'charlie')!.terms).toMatchObject({ promptSource: 'measured' });
    expect(long.find((r) => r.name === 'charlie')!.reason).toMatch(/prompt 3000 tok at ~\d+ tok\/s measured/);
    expect((await chat(BIG, 'x'.repeat(12_000))).node).toBe('bob');
  });

  it('should keep a conversation on its node for its second turn, and move it when that node stops', async () => {
    const document = `Here is a document: ${'the house energy report '.repeat(170)}`;
    // The node an unrelated 1,000-token prompt would go to; the conversation starts on the other.
    const fresh = (await route(CHAT, '&promptTokens=1000&maxTokens=8')).filter((r) => r.eligible);
    const other = fresh[0]!.name;
    const home = fresh.find((r) => r.name !== other)!.name;
    const first = await chat(CHAT, document, pinned(home));
    expect(first.node).toBe(home);
    const history = [
      { role: 'user', content: document },
      { role: 'assistant', content: first.content },
    ];
    const second = await chat(CHAT, 'And the total?', {}, history);
    expect(second.node).toBe(home);

    await peers.get(home)!.node.kill();
    await waitFor(
      () => alice.node.mesh.peers().find((p) => p.name === home)?.status !== 'online',
      30_000,
      `alice to see ${home} leave`,
    );
    const third = await chat('gemma3:4b', 'And per month?', {}, [
      ...history,
      { role: 'user', content: 'And the total?' },
      { role: 'assistant', content: second.content },
    ]);
    expect(third.node).toBe(other);
  });
});

async function token(t: TestNode): Promise<string> {
  const { issueAdminToken } = await import('../src/auth/api-tokens.js');
  return issueAdminToken(t.dataDir, 'test');
}
