/**
 * The home's agents on one node: the built-ins listed and shown as models, the CRUD API with its
 * 400/404/409 answers, a chat with an agent shaped by it, and bad entries in the agents document
 * ignored.
 */

import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSlugOf, rewriteForAgent } from '../src/agents/agent-request.js';
import { BUILT_IN_AGENTS } from '../src/agents/built-in.js';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { AgentDeleted, AgentList, AgentView, BUILT_IN_AGENT_SLUGS } from '../src/contract/agents.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

const CODER = 'qwen2.5-coder:7b';
// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON; the assertions check them
type Json = Record<string, any>;

describe('agents on one node', () => {
  let t: TestNode;
  const url = (path: string) => `${t.node.url}${path}`;
  let admin: string;
  const send = (method: string, path: string, body?: unknown, token: string | null = admin) =>
    fetch(url(path), {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const json = async (response: Response) => (await response.json()) as Json;

  beforeAll(async () => {
    t = await startTestNode({
      sim: { profile: 'fast', models: [CODER, 'llama3.2:3b', 'all-minilm:latest'], recordRequests: true },
    });
    admin = issueAdminToken(t.dataDir, 'test');
  }, 60_000);
  afterAll(async () => {
    await t?.teardown();
  });

  it('should need a credential for the agents API, and an admin to change agents', async () => {
    expect((await send('GET', '/allerac/v1/agents', undefined, null)).status).toBe(401);
    const issued = await send('POST', '/allerac/v1/tokens', { name: 'kid', role: 'member' });
    const member = ((await issued.json()) as { token: string }).token;
    expect((await send('GET', '/allerac/v1/agents', undefined, member)).status).toBe(200);
    expect((await send('GET', '/allerac/v1/agents/research', undefined, member)).status).toBe(200);
    expect((await send('POST', '/allerac/v1/agents', { slug: 'kids', name: 'Kids' }, member)).status).toBe(
      403,
    );
    expect((await send('PUT', '/allerac/v1/agents/research', { name: 'Mine' }, member)).status).toBe(403);
    expect((await send('DELETE', '/allerac/v1/agents/research', undefined, member)).status).toBe(403);
    // A member chats with the agents like with any model.
    const tags = await send('GET', '/api/tags', undefined, member);
    expect(await tags.text()).toContain('agent/research');
  });

  it('should list every built-in as a model in /api/tags and /v1/models', async () => {
    const tags = await json(await send('GET', '/api/tags'));
    const names = (tags.models as Array<{ name: string }>).map((m) => m.name);
    for (const slug of BUILT_IN_AGENT_SLUGS) expect(names).toContain(`agent/${slug}`);
    const coder = (tags.models as Array<{ name: string; details: { family: string } }>).find(
      (m) => m.name === 'agent/code-assistant',
    );
    expect(coder?.details.family).toBe('qwen2');

    const models = await json(await send('GET', '/v1/models'));
    const ids = (models.data as Array<{ id: string }>).map((m) => m.id);
    for (const slug of BUILT_IN_AGENT_SLUGS) expect(ids).toContain(`agent/${slug}`);
    const one = await send('GET', `/v1/models/${encodeURIComponent('agent/research')}`);
    expect(one.status).toBe(200);
    expect((await json(one)).id).toBe('agent/research');
    // A client that does not encode the slash reaches the same model.
    const plain = await send('GET', '/v1/models/agent/research');
    expect(plain.status).toBe(200);
    expect(await json(plain)).toMatchObject({ id: 'agent/research', object: 'model', owned_by: 'agent' });
    expect((await send('GET', '/v1/models/agent/nobody')).status).toBe(404);
  });

  it('should show agent/code-assistant with its prompt and the capabilities of its model', async () => {
    const response = await send('POST', '/api/show', { model: 'agent/code-assistant' });
    expect(response.status).toBe(200);
    const shown = await json(response);
    expect(shown.system).toMatch(/software engineer/);
    expect(shown.capabilities).toEqual(expect.arrayContaining(['completion', 'tools']));
    expect(shown.details.parameter_size).toBe('7.6B');
    expect(shown.allerac).toEqual({ agent: 'code-assistant', model: CODER });

    const missing = await send('POST', '/api/show', { model: 'agent/nobody' });
    expect(missing.status).toBe(404);
  });

  it('should chat through the agent: its prompt first, its sampling, its name on the answer', async () => {
    const before = t.sim!.requests().length;
    const response = await send('POST', '/api/chat', {
      model: 'agent/code-assistant',
      stream: false,
      messages: [
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Write hello world in C.' },
      ],
      options: { top_p: 0.5 },
    });
    expect(response.status).toBe(200);
    const answer = await json(response);
    expect(answer.model).toBe('agent/code-assistant');
    expect(answer.allerac).toMatchObject({ agent: 'code-assistant', model: CODER });

    const chat = t
      .sim!.requests()
      .slice(before)
      .find((r) => r.path === '/api/chat');
    const sent = JSON.parse(chat!.body) as Json;
    expect(sent.model).toBe(CODER);
    expect(sent.messages[0]).toEqual({ role: 'system', content: expect.stringMatching(/software engineer/) });
    expect(sent.messages[1]).toEqual({ role: 'system', content: 'Answer in French.' });
    expect(sent.options).toMatchObject({ temperature: 0.2, top_p: 0.5 });
  });

  it('should stream an agent answer with its name on every chunk and its metadata on the last', async () => {
    const response = await send('POST', '/api/chat', {
      model: 'agent/code-assistant',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(response.status).toBe(200);
    const lines = (await response.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Json);
    expect(lines.every((line) => line.model === 'agent/code-assistant')).toBe(true);
    expect(lines.at(-1)?.allerac).toMatchObject({ agent: 'code-assistant', model: CODER });
  });

  it('should serve an agent through /api/generate, /v1/chat/completions and /v1/responses', async () => {
    const before = t.sim!.requests().length;
    const generated = await send('POST', '/api/generate', {
      model: 'agent/creative-writing',
      prompt: 'a haiku',
      system: 'Rhyme.',
      stream: false,
    });
    expect(generated.status).toBe(200);
    expect(await json(generated)).toMatchObject({ model: 'agent/creative-writing' });
    const generate = t
      .sim!.requests()
      .slice(before)
      .find((r) => r.path === '/api/generate');
    expect(JSON.parse(generate!.body).system).toMatch(/creative writing partner[\s\S]*\n\nRhyme\.$/);

    const completion = await send('POST', '/v1/chat/completions', {
      model: 'agent/code-assistant',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.status).toBe(200);
    expect((await json(completion)).model).toBe('agent/code-assistant');
    const responses = await send('POST', '/v1/responses', { model: 'agent/code-assistant', input: 'hi' });
    expect(responses.status).toBe(200);
    expect((await json(responses)).model).toBe('agent/code-assistant');
    const chats = t
      .sim!.requests()
      .slice(before)
      .filter((r) => r.path === '/api/chat')
      .map(
        (r) => JSON.parse(r.body) as { model: string; messages: Array<{ role: string; content: string }> },
      );
    expect(chats).toHaveLength(2);
    for (const chat of chats) {
      expect(chat.model).toBe(CODER);
      expect(chat.messages[0]?.content).toMatch(/software engineer/);
    }
  });

  it('should give a chat with an agent only the memories its agent may read', async () => {
    await t.node.memory.add({ text: 'The wifi password is on the fridge.' });
    await t.node.memory.embeddingIdle();
    const ask = async (model: string) => {
      const before = t.sim!.requests().length;
      const response = await send('POST', '/api/chat', {
        model,
        stream: false,
        messages: [{ role: 'user', content: 'Where is the wifi password?' }],
      });
      expect(response.status).toBe(200);
      const chat = t
        .sim!.requests()
        .slice(before)
        .find((r) => r.path === '/api/chat');
      return JSON.stringify(JSON.parse(chat!.body).messages);
    };
    // Research reads private memories; the code assistant reads none.
    expect(await ask('agent/research')).toContain('on the fridge');
    expect(await ask('agent/code-assistant')).not.toContain('on the fridge');
  });

  it('should answer a chat with an unknown agent as Ollama answers an unknown model', async () => {
    const response = await send('POST', '/api/chat', {
      model: 'agent/nobody',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(response.status).toBe(404);
    expect((await json(response)).error).toBe('model "agent/nobody" not found');
  });

  it('should create, read, edit and delete an agent with clear 400, 404 and 409 answers', async () => {
    const created = await send('POST', '/allerac/v1/agents', {
      slug: 'chef',
      name: 'Chef',
      systemPrompt: 'You are a chef.',
      models: { preferred: ['llama3.2:3b'], fallback: { capabilities: ['completion'], minParamsB: 0 } },
    });
    expect(created.status).toBe(201);
    const chef = await json(created);
    expect(chef).toMatchObject({ slug: 'chef', name: 'Chef', builtIn: false });
    expect(Value.Check(AgentView, chef)).toBe(true);

    expect((await send('POST', '/allerac/v1/agents', { slug: 'chef', name: 'Again' })).status).toBe(409);
    expect((await send('POST', '/allerac/v1/agents', { slug: 'research', name: 'Mine' })).status).toBe(409);
    const badSlug = await send('POST', '/allerac/v1/agents', { slug: 'Bad Slug!', name: 'x' });
    expect(badSlug.status).toBe(400);
    expect(JSON.stringify(await json(badSlug))).toMatch(/slug/);
    const noName = await send('POST', '/allerac/v1/agents', { slug: 'nameless' });
    expect(noName.status).toBe(400);
    const hot = await send('PUT', '/allerac/v1/agents/chef', { sampling: { temperature: 5 } });
    expect(hot.status).toBe(400);
    expect(JSON.stringify(await json(hot))).toMatch(/temperature/);
    const huge = await send('PUT', '/allerac/v1/agents/chef', { systemPrompt: 'é'.repeat(10_000) });
    expect(huge.status).toBe(400);

    expect((await send('GET', '/allerac/v1/agents/nobody')).status).toBe(404);
    expect((await send('PUT', '/allerac/v1/agents/nobody', { name: 'x' })).status).toBe(404);
    expect((await send('DELETE', '/allerac/v1/agents/nobody')).status).toBe(404);

    const edited = await send('PUT', '/allerac/v1/agents/chef', { description: 'Recipes' });
    expect(edited.status).toBe(200);
    expect(await json(edited)).toMatchObject({
      slug: 'chef',
      description: 'Recipes',
      systemPrompt: 'You are a chef.',
    });
    const list = await json(await send('GET', '/allerac/v1/agents'));
    expect((list.agents as Array<{ slug: string }>).map((a) => a.slug)).toEqual([
      ...BUILT_IN_AGENT_SLUGS,
      'chef',
    ]);
    expect([...Value.Errors(AgentList, list)].map((e) => `${e.path}: ${e.message}`)).toEqual([]);
    const tags = await json(await send('GET', '/api/tags'));
    expect((tags.models as Array<{ name: string }>).map((m) => m.name)).toContain('agent/chef');

    const deleted = await send('DELETE', '/allerac/v1/agents/chef');
    expect(deleted.status).toBe(200);
    expect(Value.Check(AgentDeleted, await json(deleted))).toBe(true);
    expect((await send('GET', '/allerac/v1/agents/chef')).status).toBe(404);
  });

  it('should restore a built-in when its edit is deleted', async () => {
    const edited = await send('PUT', '/allerac/v1/agents/research', { name: 'My research' });
    expect(await json(edited)).toMatchObject({ name: 'My research', builtIn: true, edited: true });
    const deleted = await json(await send('DELETE', '/allerac/v1/agents/research'));
    expect(deleted.restored).toMatchObject({ slug: 'research', name: 'Research' });
    const restored = await json(await send('GET', '/allerac/v1/agents/research'));
    expect(restored).toMatchObject({ name: 'Research' });
    expect(restored.edited).toBeUndefined();
  });

  it('should ignore entries of the agents document that are not valid agents', async () => {
    const spaces = t.node.memory.spaces;
    // An edit of a built-in with a field of the wrong type, and an agent over the prompt limit.
    await spaces.putEntry('.agents', 'research', JSON.stringify({ slug: 'research', name: 42 }));
    await spaces.putEntry(
      '.agents',
      'giant',
      JSON.stringify({ slug: 'giant', systemPrompt: 'x'.repeat(20_000) }),
    );
    await spaces.putEntry('.agents', 'garbage', '{not json');
    const list = await json(await send('GET', '/allerac/v1/agents'));
    const slugs = (list.agents as Array<{ slug: string }>).map((a) => a.slug);
    expect(slugs).toEqual([...BUILT_IN_AGENT_SLUGS]);
    expect((list.agents as Array<{ slug: string; name: string }>)[1]).toMatchObject({
      slug: 'research',
      name: 'Research',
    });
    expect((await send('GET', '/api/tags')).status).toBe(200);
    await spaces.removeEntry('.agents', 'research');
  });
});

describe('an agent request', () => {
  it('should ask for the agent’s routing specialisation unless the request names one', () => {
    const agent = BUILT_IN_AGENTS['code-assistant'];
    const plain = rewriteForAgent('chat', { model: 'agent/code-assistant', messages: [] }, agent, 'm');
    expect(plain.allerac).toEqual({ specialization: 'code' });
    const own = rewriteForAgent(
      'chat',
      { model: 'agent/code-assistant', messages: [], allerac: { specialization: 'research', node: 'bob' } },
      agent,
      'm',
    );
    expect(own.allerac).toEqual({ specialization: 'research', node: 'bob' });
    expect(agentSlugOf('agent/research:latest')).toBe('research');
    expect(agentSlugOf('llama3.2:3b')).toBeUndefined();
  });
});
