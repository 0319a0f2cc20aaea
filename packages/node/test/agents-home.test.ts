/**
 * Agents across the home: an agent made on alice reaches bob as a model, a chat with it through
 * bob carries its system prompt to whichever Ollama serves it, and an invalid agent alice's
 * document holds is ignored on bob without harming the others.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const MODEL = 'llama3.2:3b';
const PROMPT = 'You are the household gardener. Speak of plants.';

/** Each node's admin token, for /allerac/v1 (which always needs a credential). */
const tokens = new Map<TestNode, string>();
const auth = (node: TestNode) => ({ authorization: `Bearer ${tokens.get(node)}` });

const post = (node: TestNode, path: string, body: unknown, method = 'POST') =>
  fetch(`${node.node.url}${path}`, {
    method,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...auth(node) },
  });

async function tagNames(node: TestNode): Promise<string[]> {
  const tags = (await (await fetch(`${node.node.url}/api/tags`)).json()) as {
    models: Array<{ name: string }>;
  };
  return tags.models.map((m) => m.name);
}

async function agentOn(node: TestNode, slug: string): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(`${node.node.url}/allerac/v1/agents/${slug}`, { headers: auth(node) });
  return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
}

describe('agents shared by the home', () => {
  let alice: TestNode;
  let bob: TestNode;

  beforeAll(async () => {
    alice = await startTestNode({
      name: 'alice',
      sim: { profile: 'fast', models: [MODEL], recordRequests: true },
    });
    bob = await startTestNode({
      name: 'bob',
      sim: { profile: 'fast', models: [MODEL], recordRequests: true },
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    });
    tokens.set(alice, issueAdminToken(alice.dataDir, 'test'));
    tokens.set(bob, issueAdminToken(bob.dataDir, 'test'));
    await waitFor(
      () =>
        alice.node.mesh.peers().some((p) => p.name === 'bob' && p.status === 'online') &&
        bob.node.mesh.peers().some((p) => p.name === 'alice' && p.status === 'online'),
      30_000,
      'alice and bob to see each other',
    );
  }, 60_000);
  afterAll(async () => {
    await bob?.teardown();
    await alice?.teardown();
  });

  it('should show an agent created on alice as a model on bob, and chat with it there', async () => {
    const created = await post(alice, '/allerac/v1/agents', {
      slug: 'gardener',
      name: 'Gardener',
      systemPrompt: PROMPT,
      models: { preferred: [MODEL], fallback: { capabilities: ['completion'], minParamsB: 0 } },
      sampling: { temperature: 0.7 },
    });
    expect(created.status).toBe(201);
    await waitFor(
      async () => (await tagNames(bob)).includes('agent/gardener'),
      20_000,
      'bob to list the gardener',
    );

    const response = await post(bob, '/api/chat', {
      model: 'agent/gardener',
      stream: false,
      messages: [{ role: 'user', content: 'What should I plant in spring?' }],
    });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { model: string; allerac: Record<string, unknown> };
    expect(answer.model).toBe('agent/gardener');
    expect(answer.allerac).toMatchObject({ agent: 'gardener', model: MODEL });
    const chats = [...alice.sim!.requests(), ...bob.sim!.requests()]
      .filter((r) => r.path === '/api/chat')
      .map(
        (r) =>
          JSON.parse(r.body) as {
            model: string;
            messages: Array<{ role: string; content: string }>;
            options?: Record<string, unknown>;
          },
      );
    const served = chats.find((c) => c.messages.some((m) => m.content === 'What should I plant in spring?'));
    expect(served?.model).toBe(MODEL);
    expect(served?.messages[0]).toEqual({ role: 'system', content: PROMPT });
    expect(served?.options).toMatchObject({ temperature: 0.7 });
  });

  it('should carry an edit and a deletion from bob back to alice', async () => {
    expect((await post(bob, '/allerac/v1/agents/gardener', { description: 'Plants' }, 'PUT')).status).toBe(
      200,
    );
    await waitFor(
      async () => (await agentOn(alice, 'gardener'))?.description === 'Plants',
      20_000,
      'the edit on alice',
    );
    const deleted = await fetch(`${bob.node.url}/allerac/v1/agents/gardener`, {
      method: 'DELETE',
      headers: auth(bob),
    });
    expect(deleted.status).toBe(200);
    await waitFor(
      async () => (await agentOn(alice, 'gardener')) === undefined,
      20_000,
      'the deletion on alice',
    );
  });

  it('should ignore on bob an invalid agent in alice’s document, keeping the valid ones', async () => {
    await alice.node.memory.spaces.putEntry(
      '.agents',
      'broken',
      JSON.stringify({ slug: 'broken', tools: 'all' }),
    );
    expect((await post(alice, '/allerac/v1/agents', { slug: 'marker', name: 'Marker' })).status).toBe(201);
    // The marker was written after the broken entry: once bob has it, he has the broken one too.
    await waitFor(async () => (await agentOn(bob, 'marker')) !== undefined, 20_000, 'bob to get the marker');
    expect(bob.node.memory.spaces.entries('.agents').has('broken')).toBe(true);
    expect(await agentOn(bob, 'broken')).toBeUndefined();
    expect(await tagNames(bob)).not.toContain('agent/broken');
    expect(await tagNames(bob)).toContain('agent/marker');
  });
});
