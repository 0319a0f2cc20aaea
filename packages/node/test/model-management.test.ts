import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const BASE = 'llama3.2:3b';
const EMBED = 'all-minilm:latest';
/** Under the mesh's 5 s periodic card refresh: a card within this came from the action itself. */
const CARD_WAIT_MS = 4_000;

/** Ollama's NDJSON lines of a response body. */
async function ndjson(response: Response): Promise<Array<Record<string, unknown>>> {
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('model management: pull, copy, create and delete, here and on a peer', () => {
  let alice: TestNode;
  let bob: TestNode;
  let bobId: string;
  let client: Ollama;
  let memberToken: string;

  const names = async (ollama: Ollama) => (await ollama.list()).models.map((m) => m.name);
  const bobSim = () => new Ollama({ host: bob.sim!.url });
  const aliceSim = () => new Ollama({ host: alice.sim!.url });
  const bobCardHas = (model: string) =>
    alice.node.mesh.peers().some((p) => p.id === bobId && p.status === 'online' && p.models.includes(model));
  const post = (path: string, body: unknown, method = 'POST') =>
    fetch(`${alice.node.url}${path}`, { method, body: JSON.stringify(body) });

  beforeAll(async () => {
    alice = await startTestNode({ name: 'alice', sim: { profile: 'fast', models: [BASE, EMBED] } });
    bob = await startTestNode({
      name: 'bob',
      sim: { profile: 'fast', models: [BASE, EMBED] },
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    });
    bobId = bob.node.mesh.mesh.peerId;
    await waitFor(() => bobCardHas(BASE), 30_000, 'alice to see bob with its models');
    client = new Ollama({ host: alice.node.url });
    const { issueAdminToken } = await import('../src/auth/api-tokens.js');
    const admin = issueAdminToken(alice.dataDir);
    const issued = await alice.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/tokens',
      headers: { authorization: `Bearer ${admin}` },
      payload: { name: 'kid', role: 'member' },
    });
    memberToken = issued.json().token as string;
  }, 60_000);
  afterAll(async () => {
    await bob?.teardown();
    await alice?.teardown();
  });

  it('should stream a local pull as Ollama streams it, then list the model', async () => {
    const progress = [];
    for await (const line of await client.pull({ model: 'gemma3:4b', stream: true })) progress.push(line);
    const statuses = progress.map((p) => p.status);
    expect(statuses[0]).toBe('pulling manifest');
    expect(statuses).toContain('verifying sha256 digest');
    expect(statuses).toContain('writing manifest');
    expect(statuses.at(-1)).toBe('success');
    const weights = progress.filter((p) => p.total > 1e9);
    expect(weights.length).toBeGreaterThan(1);
    expect(weights.at(-1)?.completed).toBe(weights.at(-1)?.total);
    expect(await names(client)).toContain('gemma3:4b');
    // The card carries the new model to the peers at once.
    await waitFor(
      () => bob.node.mesh.peers().some((p) => p.name === 'alice' && p.models.includes('gemma3:4b')),
      CARD_WAIT_MS,
      'bob to see gemma3:4b on alice',
    );
  });

  it('should answer a non-streamed pull with the last progress object', async () => {
    expect(await client.pull({ model: 'gemma3:4b', stream: false })).toEqual({ status: 'success' });
  });

  it("should fail a pull of an unknown model with Ollama's error and list nothing new", async () => {
    const before = await names(client);
    await expect(client.pull({ model: 'no-such-model:1b', stream: false })).rejects.toMatchObject({
      status_code: 500,
      error: 'pull model manifest: file does not exist',
    });
    const streamed = await client.pull({ model: 'no-such-model:1b', stream: true });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const line of streamed) seen.push(line.status);
      })(),
    ).rejects.toThrow('pull model manifest: file does not exist');
    expect(seen).toEqual(['pulling manifest']);
    expect(await names(client)).toEqual(before);
  });

  it('should copy and delete a local model with the ollama client', async () => {
    await client.copy({ source: BASE, destination: 'family:latest' });
    expect(await names(client)).toContain('family:latest');
    await client.delete({ model: 'family:latest' });
    expect(await names(aliceSim())).not.toContain('family:latest');
    await expect(client.delete({ model: 'family:latest' })).rejects.toMatchObject({ status_code: 404 });
    await expect(client.copy({ source: 'nothing:here', destination: 'x:latest' })).rejects.toMatchObject({
      status_code: 404,
    });
  });

  it('should create a model and stream its progress', async () => {
    const progress = [];
    for await (const line of await client.create({
      model: 'helper:latest',
      from: BASE,
      system: 'Be brief.',
      stream: true,
    }))
      progress.push(line.status);
    expect(progress.at(-1)).toBe('success');
    expect(await names(client)).toContain('helper:latest');
  });

  it('should take a Modelfile blob as the ollama CLI sends it, then create a model from it', async () => {
    const gguf = Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(64 * 1024, 7)]);
    const digest = `sha256:${createHash('sha256').update(gguf).digest('hex')}`;
    const url = `${alice.node.url}/api/blobs/${digest}`;
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(404);
    expect((await fetch(url, { method: 'POST', body: gguf })).status).toBe(201);
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(url, { method: 'POST', body: gguf })).status).toBe(200);
    const wrong = await fetch(`${alice.node.url}/api/blobs/sha256:${'0'.repeat(64)}`, {
      method: 'POST',
      body: gguf,
    });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toContain('digest mismatch');
    expect((await fetch(`${alice.node.url}/api/blobs/not-a-digest`, { method: 'HEAD' })).status).toBe(400);
    const created = await client.create({
      model: 'homemade:latest',
      files: { 'model.gguf': digest },
      stream: false,
    } as never);
    expect(created).toEqual({ status: 'success' });
    expect(await names(aliceSim())).toContain('homemade:latest');
  });

  it("should pull on a peer through the mesh, streaming the peer's progress, and update its card", async () => {
    const response = await post('/api/pull', { model: 'qwen3:8b', allerac: { node: 'bob' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    expect(response.headers.get('x-allerac-node')).toBe('bob');
    const lines = await ndjson(response);
    expect(lines[0]).toEqual({ status: 'pulling manifest' });
    expect(lines.filter((l) => typeof l.completed === 'number').length).toBeGreaterThan(1);
    expect(lines.at(-1)).toEqual({ status: 'success' });
    expect(await names(bobSim())).toContain('qwen3:8b');
    expect(await names(aliceSim())).not.toContain('qwen3:8b');
    // Bob's own list has it at once, not after its 3 s cache; its card reaches alice well within
    // the 5 s periodic refresh, so only the update the action itself sends can meet this wait.
    expect(await names(new Ollama({ host: bob.node.url }))).toContain('qwen3:8b');
    await waitFor(() => bobCardHas('qwen3:8b'), CARD_WAIT_MS, "bob's card to list qwen3:8b");
  });

  it('should copy, create and delete on a peer by id, with the ollama client for copy and create', async () => {
    await client.copy({ source: BASE, destination: 'bobs:latest', allerac: { node: bobId } } as never);
    expect(await names(bobSim())).toContain('bobs:latest');
    const created = await client.create({
      model: 'bobs-helper:latest',
      from: BASE,
      stream: false,
      allerac: { node: bobId },
    } as never);
    expect(created).toEqual({ status: 'success' });
    expect(await names(bobSim())).toContain('bobs-helper:latest');
    const deleted = await post('/api/delete', { model: 'bobs:latest', allerac: { node: 'bob' } }, 'DELETE');
    expect(deleted.status).toBe(200);
    expect(await names(bobSim())).not.toContain('bobs:latest');
    await waitFor(
      () => bobCardHas('bobs-helper:latest') && !bobCardHas('bobs:latest'),
      CARD_WAIT_MS,
      "bob's card",
    );
    const missing = await post('/api/delete', { model: 'bobs:latest', allerac: { node: 'bob' } }, 'DELETE');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "model 'bobs:latest' not found" });
  });

  it("should fail an unknown model's pull on a peer with Ollama's error", async () => {
    const before = await names(bobSim());
    const response = await post('/api/pull', {
      model: 'no-such-model:1b',
      stream: false,
      allerac: { node: 'bob' },
    });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'pull model manifest: file does not exist' });
    expect(await names(bobSim())).toEqual(before);
  });

  it('should delete a model on every node with node "*"', async () => {
    const response = await post('/api/delete', { model: EMBED, allerac: { node: '*' } }, 'DELETE');
    expect(response.status).toBe(200);
    const body = (await response.json()) as { allerac: { deleted: string[]; failed: unknown[] } };
    expect(body.allerac.deleted.sort()).toEqual(['alice', 'bob']);
    expect(await names(aliceSim())).not.toContain(EMBED);
    expect(await names(bobSim())).not.toContain(EMBED);
    await waitFor(() => !bobCardHas(EMBED), CARD_WAIT_MS, "bob's card to drop the model");
    const again = await post('/api/delete', { model: EMBED, allerac: { node: '*' } }, 'DELETE');
    expect(again.status).toBe(404);
  });

  it('should answer 404 for a node that is not in the home', async () => {
    const response = await post('/api/copy', {
      source: BASE,
      destination: 'x:latest',
      allerac: { node: 'carol' },
    });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toContain('carol');
  });

  it('should refuse model management to a member with 403, here and on a peer', async () => {
    const as = { authorization: `Bearer ${memberToken}` };
    const attempts = [
      { method: 'POST', url: '/api/pull', payload: { model: 'gemma3:4b' } },
      { method: 'POST', url: '/api/pull', payload: { model: 'gemma3:4b', allerac: { node: 'bob' } } },
      { method: 'DELETE', url: '/api/delete', payload: { model: BASE, allerac: { node: '*' } } },
      { method: 'POST', url: '/api/copy', payload: { source: BASE, destination: 'kid:latest' } },
      { method: 'POST', url: '/api/create', payload: { model: 'kid:latest', from: BASE } },
    ] as const;
    for (const attempt of attempts) {
      const response = await alice.node.http.inject({ ...attempt, headers: as });
      expect(response.statusCode, `${attempt.method} ${attempt.url}`).toBe(403);
    }
    expect(await names(bobSim())).toContain(BASE);
    expect(await names(client)).not.toContain('kid:latest');
  });

  it('should refuse bad input with a 400', async () => {
    const response = await post('/api/pull', { model: 7 });
    expect(response.status).toBe(400);
    const star = await post('/api/pull', { model: 'gemma3:4b', allerac: { node: '*' } });
    expect(star.status).toBe(400);
  });
});

describe('push', () => {
  it("should refuse /api/push in Ollama's error shape, since a push leaves the home", async () => {
    const t = await startTestNode({ name: 'attic' });
    try {
      const response = await fetch(`${t.node.url}/api/push`, {
        method: 'POST',
        body: JSON.stringify({ model: 'llama3.2:3b' }),
      });
      expect(response.status).toBe(403);
      expect(((await response.json()) as { error: string }).error).toMatch(/out of the home/);
    } finally {
      await t.teardown();
    }
  });
});
