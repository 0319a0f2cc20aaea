/**
 * The whole home as one Ollama: a peer's models shown and listed in full, the home's Ollama
 * version, a peer's errors passed on as its Ollama gave them, and large requests forwarded.
 * Alice has no Ollama; bob and charlie each have one, of different versions.
 */
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const VISION = 'gemma3:4b';
const EMBED = 'all-minilm:latest';
const LATEST = 'llama3.2:latest';

async function post(node: TestNode, path: string, body: unknown): Promise<Response> {
  return fetch(`${node.node.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
}

async function getJson(node: TestNode, path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${node.node.url}${path}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

function chatsReceived(node: TestNode, model: string): number {
  return (node.sim?.requests() ?? []).filter(
    (r) => r.path === '/api/chat' && (JSON.parse(r.body) as { model?: string }).model === model,
  ).length;
}

describe('peer models: alice, with no Ollama, serves bob’s and charlie’s models as one Ollama', () => {
  let alice: TestNode;
  let bob: TestNode;
  let charlie: TestNode;

  beforeAll(async () => {
    alice = await startTestNode({ name: 'alice', sim: false });
    const join_ = {
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    };
    bob = await startTestNode({
      name: 'bob',
      sim: {
        profile: 'fast',
        models: [VISION, EMBED, LATEST],
        preload: [VISION],
        version: '0.12.6',
        recordRequests: true,
      },
      ...join_,
    });
    charlie = await startTestNode({
      name: 'charlie',
      sim: { profile: 'fast', models: [EMBED], version: '0.11.4', recordRequests: true },
      ...join_,
    });
    await waitFor(
      () =>
        ['bob', 'charlie'].every((name) =>
          alice.node.mesh
            .peers()
            .some((p) => p.name === name && p.status === 'online' && p.models.length > 0),
        ),
      30_000,
      'alice to see bob and charlie with their models',
    );
  }, 60_000);
  afterAll(async () => {
    await charlie?.teardown();
    await bob?.teardown();
    await alice?.teardown();
  });

  it("should show a peer's model with its real record, also by its untagged name", async () => {
    const own = (await (await post(bob, '/api/show', { model: VISION })).json()) as Record<string, unknown>;
    expect(own.capabilities).toContain('vision');
    expect(own.template).not.toBe('');
    const shown = await post(alice, '/api/show', { model: VISION });
    expect(shown.status).toBe(200);
    expect(await shown.json()).toEqual({ ...own, allerac: { node: 'bob' } });
    // Ollama's resolution: an untagged name is its `:latest`.
    const untagged = await post(alice, '/api/show', { model: 'Llama3.2' });
    expect(untagged.status).toBe(200);
    const latest = (await (await post(bob, '/api/show', { model: LATEST })).json()) as Record<
      string,
      unknown
    >;
    expect(latest.model_info).not.toEqual({});
    expect(await untagged.json()).toEqual({ ...latest, allerac: { node: 'bob' } });
    // `gemma3` means `gemma3:latest`, which nobody has.
    expect((await post(alice, '/api/show', { model: 'gemma3' })).status).toBe(404);
  });

  it("should list a peer's loaded models with its real expiry, VRAM and context length", async () => {
    const own = ((await getJson(bob, '/api/ps')).models as Array<Record<string, unknown>>).find(
      (m) => m.name === VISION,
    );
    const listed = ((await getJson(alice, '/api/ps')).models as Array<Record<string, unknown>>).find(
      (m) => m.name === VISION,
    );
    expect(own).toBeDefined();
    // A model kept forever expires "292 years from now", so two readings differ by their time.
    expect({ ...listed, expires_at: undefined }).toEqual({ ...own, expires_at: undefined });
    const expiry = Date.parse(String(listed?.expires_at));
    expect(Math.abs(expiry - Date.parse(String(own?.expires_at)))).toBeLessThan(5_000);
    expect(listed?.context_length).toEqual(expect.any(Number));
    expect(listed?.size_vram).toEqual(own?.size_vram);
  });

  it("should report the local Ollama's version, or the lowest of the peers' without one", async () => {
    expect(await getJson(bob, '/api/version')).toEqual({ version: '0.12.6' });
    expect(await getJson(alice, '/api/version')).toEqual({ version: '0.11.4' });
  });

  it("should pass a peer's Ollama refusal on as it is, in each API's shape, tried on one peer only", async () => {
    const before = chatsReceived(bob, EMBED) + chatsReceived(charlie, EMBED);
    const body = { model: EMBED, messages: [{ role: 'user', content: 'hi' }], stream: false };
    const viaAlice = await post(alice, '/api/chat', body);
    // Bad request is the client's: no other node may be asked.
    expect(chatsReceived(bob, EMBED) + chatsReceived(charlie, EMBED)).toBe(before + 1);
    const direct = await post(bob, '/api/chat', { ...body, allerac: { policy: 'local-first' } });
    expect(direct.status).toBe(400);
    expect(viaAlice.status).toBe(400);
    expect(await viaAlice.json()).toEqual(await direct.json());
    const openai = new OpenAI({ baseURL: `${alice.node.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const error = await openai.chat.completions
      .create({ model: EMBED, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({
      message: expect.stringMatching(/does not support chat/),
      type: 'invalid_request_error',
    });
  });

  it("should answer with the peer's Ollama's own status and message, not a 400 or a wrapped 502", async () => {
    for (const status of [413, 500]) {
      bob.sim?.setFaults({ failNextRequests: 1, errorStatus: status });
      const response = await post(alice, '/api/chat', {
        model: VISION,
        messages: [{ role: 'user', content: 'hi' }],
        stream: false,
      });
      // This node passes Ollama's 500 on as a bad gateway, exactly as it does for its own Ollama.
      expect(response.status).toBe(status === 500 ? 502 : status);
      const { error } = (await response.json()) as { error: string };
      bob.sim?.setFaults({ failNextRequests: 1, errorStatus: status });
      const direct = await fetch(`${bob.sim?.url}/api/chat`, {
        method: 'POST',
        body: JSON.stringify({ model: VISION, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(error).toBe(((await direct.json()) as { error: string }).error);
    }
    bob.sim?.setFaults({});
  });

  it('should have a peer serve a 20 MiB image chat', async () => {
    const image = Buffer.alloc(15 * 1024 * 1024, 7).toString('base64');
    expect(image.length).toBeGreaterThanOrEqual(20 * 1024 * 1024);
    const response = await post(alice, '/api/chat', {
      model: VISION,
      messages: [{ role: 'user', content: 'what is this?', images: [image] }],
      stream: false,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-allerac-node')).toBe('bob');
    const answer = (await response.json()) as { done?: boolean; message?: { content?: string } };
    expect(answer.done).toBe(true);
    const received = (bob.sim?.requests() ?? []).filter((r) => r.path === '/api/chat').at(-1);
    const sent = JSON.parse(received?.body ?? '{}') as { messages?: Array<{ images?: string[] }> };
    expect(sent.messages?.at(-1)?.images?.[0]?.length).toBe(image.length);
  });
});
