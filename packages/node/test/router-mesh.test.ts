import { join } from 'node:path';
import {
  expectedAnswer,
  type HardwareProfile,
  type OllamaSim,
  PROFILES,
  startOllamaSim,
} from '@allerac/ollama-sim';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NodeProcess, startNodeProcess } from './helpers/node-process.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const BIG = 'llama3.1:8b';
/** A slow single-slot box: answers take seconds, and a second request at once is refused (503). */
const slowBox: HardwareProfile = {
  ...PROFILES.gpu!,
  name: 'slow-box',
  tokensPerSecond: 12,
  referenceParamsB: 8,
  ttftMs: 30,
  parallelSlots: 1,
  queueLimit: 0,
};

interface Peer {
  sim: OllamaSim;
  node: NodeProcess;
}

describe('router: the mesh as one Ollama (alice has no 8B model; bob and charlie do)', () => {
  let alice: TestNode;
  const peers = new Map<string, Peer>();

  const ask = (content: string) => [{ role: 'user', content }];

  beforeAll(async () => {
    alice = await startTestNode({ name: 'alice', sim: { profile: 'fast', models: ['llama3.2:3b'] } });
    const { addresses } = (await (
      await alice.node.http.inject({
        url: '/allerac/v1/node',
        headers: { authorization: `Bearer ${await token(alice)}` },
      })
    ).json()) as { addresses: string[] };
    for (const name of ['bob', 'charlie']) {
      const sim = await startOllamaSim({ profile: slowBox, models: [BIG], preload: [BIG] });
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
        alice.node.mesh
          .peers()
          .filter((p) => p.status === 'online' && p.models.includes(BIG) && p.backend.state === 'up')
          .length === 2,
      30_000,
      'alice to see bob and charlie with their models',
    );
  }, 120_000);

  afterAll(async () => {
    for (const { sim, node } of peers.values()) {
      await node.stop();
      await sim.close();
    }
    await alice?.teardown();
  });

  it('should list every model of the mesh once, through /api/tags and /v1/models', async () => {
    const tags = (await (await fetch(`${alice.node.url}/api/tags`)).json()) as {
      models: Array<{ name: string }>;
    };
    const names = tags.models.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['llama3.2:3b', BIG]));
    expect(names.filter((n) => n === BIG)).toHaveLength(1);
    const models = (await (await fetch(`${alice.node.url}/v1/models`)).json()) as {
      data: Array<{ id: string }>;
    };
    expect(models.data.map((m) => m.id)).toContain(BIG);
  });

  it('should serve a model only a peer has, through the ollama client, naming the peer', async () => {
    const messages = ask('what does the office GPU know?');
    const stream = await new Ollama({ host: alice.node.url }).chat({ model: BIG, messages, stream: true });
    let text = '';
    let final: { allerac?: { node: string; failovers: number } } | undefined;
    for await (const chunk of stream) {
      text += chunk.message.content;
      if (chunk.done) final = chunk as never;
    }
    expect(text).toBe(expectedAnswer(BIG, messages));
    expect(['bob', 'charlie']).toContain(final?.allerac?.node);
    expect(final?.allerac?.failovers).toBe(0);
  });

  it('should serve it through the openai client too, with the X-Allerac-Node header', async () => {
    const messages = ask('and through openai?');
    const openai = new OpenAI({ baseURL: `${alice.node.url}/v1`, apiKey: 'loopback' });
    const { data, response } = await openai.chat.completions
      .create({ model: BIG, messages: messages as never })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe(expectedAnswer(BIG, messages));
    expect(['bob', 'charlie']).toContain(response.headers.get('x-allerac-node'));
  });

  it('should explain the ranking, with the reason alice is excluded', async () => {
    const route = (await (
      await alice.node.http.inject({
        url: `/allerac/v1/route?model=${BIG}`,
        headers: { authorization: `Bearer ${await token(alice)}` },
      })
    ).json()) as Array<{ name: string; eligible: boolean; reason: string }>;
    expect(route.map((r) => r.name).sort()).toEqual(['alice', 'bob', 'charlie']);
    expect(
      route
        .filter((r) => r.eligible)
        .map((r) => r.name)
        .sort(),
    ).toEqual(['bob', 'charlie']);
    expect(route.find((r) => r.name === 'alice')?.reason).toMatch(/not installed|no .*model|excluded/i);
    for (const entry of route) expect(entry.reason.length).toBeGreaterThan(5);
  });

  it('should pin a request to a named node, from either API', async () => {
    for (const target of ['bob', 'charlie']) {
      const messages = ask(`pin to ${target}`);
      const ollamaAnswer = (await (
        await fetch(`${alice.node.url}/api/chat`, {
          method: 'POST',
          body: JSON.stringify({ model: BIG, messages, stream: false, allerac: { node: target } }),
        })
      ).json()) as { allerac: { node: string } };
      expect(ollamaAnswer.allerac.node).toBe(target);
      const openaiResponse = await fetch(`${alice.node.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: BIG, messages, allerac: { node: target } }),
      });
      const openaiText = await openaiResponse.text();
      expect(openaiResponse.status, openaiText).toBe(200);
      const openaiAnswer = JSON.parse(openaiText) as { allerac: { node: string } };
      expect(openaiAnswer.allerac.node).toBe(target);
    }
  });

  it('should answer a model found nowhere with 404 listing what the mesh has', async () => {
    const response = await fetch(`${alice.node.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: 'nonexistent:1b', messages: ask('x') }),
    });
    expect(response.status).toBe(404);
    const { error } = (await response.json()) as { error: string };
    expect(error).toContain(BIG);
  });

  it('should retry transparently on the next peer when the first fails before its first token', async () => {
    const first = await firstChoice(alice, BIG);
    peers.get(first)!.sim.setFaults({ failNextRequests: 1, errorStatus: 500 });
    const messages = ask('retry me');
    const response = await fetch(`${alice.node.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: BIG, messages, stream: false }),
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const body = JSON.parse(text) as {
      message: { content: string };
      allerac: { node: string; failovers: number };
    };
    expect(body.message.content).toBe(expectedAnswer(BIG, messages));
    expect(body.allerac.failovers).toBe(1);
    expect(body.allerac.node).not.toBe(first);
  });

  it('should cancel the remote generation when the client disconnects', async () => {
    const before = new Map([...peers].map(([name, peer]) => [name, peer.sim.stats().cancelled]));
    const controller = new AbortController();
    const response = await fetch(`${alice.node.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({
        model: BIG,
        messages: ask('a long story please'),
        options: { num_predict: 400 },
      }),
      signal: controller.signal,
    });
    const serving = response.headers.get('x-allerac-node')!;
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    const sim = peers.get(serving)!.sim;
    await waitFor(
      () => sim.stats().cancelled > before.get(serving)!,
      15_000,
      'the peer to cancel its generation',
    );
    await waitFor(() => sim.stats().active === 0, 15_000, 'the peer slot to be free');
  });

  it('should answer 503 with Retry-After when every node that has the model is busy', async () => {
    const controllers = [new AbortController(), new AbortController()];
    try {
      // Each holder's one slot is taken by a request pinned to it, so the test does not depend on
      // where the router would have put them.
      const holders = ['bob', 'charlie'];
      const busy = await Promise.all(
        controllers.map((controller, i) =>
          fetch(`${alice.node.url}/api/chat`, {
            method: 'POST',
            body: JSON.stringify({
              model: BIG,
              messages: ask('occupy'),
              options: { num_predict: 400 },
              allerac: { node: holders[i] },
            }),
            signal: controller.signal,
          }),
        ),
      );
      expect(busy.map((r) => r.headers.get('x-allerac-node'))).toEqual(holders);
      const refused = await fetch(`${alice.node.url}/api/chat`, {
        method: 'POST',
        body: JSON.stringify({ model: BIG, messages: ask('one more') }),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await refused.json()) as { error: string }).error).toMatch(/busy/);
    } finally {
      for (const controller of controllers) controller.abort();
      for (const { sim } of peers.values())
        await waitFor(() => sim.stats().active === 0, 15_000, 'slots to free up');
    }
  });

  it('should finish the answer on another peer when the serving peer is killed mid-stream', async () => {
    const messages = ask('tell me about failover in detail');
    const response = await fetch(`${alice.node.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: BIG, messages }),
    });
    expect(response.status).toBe(200);
    const serving = response.headers.get('x-allerac-node')!;
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    let chunks = 0;
    while (chunks < 3) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      chunks = buffered.split('\n').filter((line) => line.trim() !== '').length;
    }
    await peers.get(serving)!.node.kill();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
    }
    const lines = buffered
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(
        (line) =>
          JSON.parse(line) as {
            message?: { content: string };
            done?: boolean;
            error?: string;
            allerac?: { node: string; failovers: number };
          },
      );
    expect(lines.find((line) => line.error !== undefined)).toBeUndefined();
    const text = lines.map((line) => line.message?.content ?? '').join('');
    expect(text).toBe(expectedAnswer(BIG, messages));
    const final = lines.at(-1)!;
    expect(final.done).toBe(true);
    expect(final.allerac?.failovers).toBeGreaterThanOrEqual(1);
    expect(final.allerac?.node).not.toBe(serving);
  });
});

async function token(t: TestNode): Promise<string> {
  const { issueAdminToken } = await import('../src/auth/api-tokens.js');
  return issueAdminToken(t.dataDir, 'test');
}

async function firstChoice(t: TestNode, model: string): Promise<string> {
  const route = (await (
    await t.node.http.inject({
      url: `/allerac/v1/route?model=${model}`,
      headers: { authorization: `Bearer ${await token(t)}` },
    })
  ).json()) as Array<{ name: string; eligible: boolean }>;
  return route.find((r) => r.eligible)!.name;
}
