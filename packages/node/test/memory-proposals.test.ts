/**
 * Memory that learns (issue #18): a chat with an agent that may write memories proposes the
 * user's statements about themselves, pending and private to that user until kept (a memory,
 * found by search) or discarded; an agent with `memory.write: false` saves nothing, not even on
 * "remember …".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { proposeFromMessage } from '../src/memory/proposal-extractor.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

const CHAT = 'llama3.2:3b';
const ALLERGY = 'My daughter is allergic to nuts';
const KEY = 'We keep the spare key under the blue pot';
// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON; the assertions check them
type Json = Record<string, any>;

describe('the proposal extractor', () => {
  it('should propose statements about the user, their home and preferences, not questions or requests', () => {
    expect(proposeFromMessage(`${ALLERGY}. ${KEY}! What should I cook tonight?`)).toEqual([ALLERGY, KEY]);
    expect(proposeFromMessage('I prefer tea over coffee in the morning.')).toEqual([
      'I prefer tea over coffee in the morning',
    ]);
    expect(proposeFromMessage('Is my daughter allergic to nuts?')).toEqual([]);
    expect(proposeFromMessage('My question is about the boiler')).toEqual([]);
    expect(proposeFromMessage('I am wondering how tides work')).toEqual([]);
    expect(proposeFromMessage('My code is broken, can you fix it')).toEqual([]);
    expect(proposeFromMessage('Tell me a story about dragons')).toEqual([]);
  });

  it('should bound what one message proposes', () => {
    const many = Array.from({ length: 10 }, (_, i) => `My cousin number ${i} lives in town ${i}.`).join(' ');
    expect(proposeFromMessage(many)).toHaveLength(3);
    expect(proposeFromMessage(`My note is ${'x'.repeat(400)}`)).toEqual([]);
  });
});

describe('memory proposals on one node', () => {
  let t: TestNode;
  let admin: string;
  let alice: string;
  let bob: string;
  const send = async (method: string, path: string, token: string, body?: unknown) => {
    const response = await fetch(`${t.node.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text === '' ? {} : JSON.parse(text)) as Json,
    };
  };
  const chat = (token: string, model: string, content: string) =>
    send('POST', '/api/chat', token, { model, messages: [{ role: 'user', content }], stream: false });
  const proposals = async (token: string) =>
    (await send('GET', '/allerac/v1/memories/proposals', token)).body.proposals as Json[];
  const member = async (name: string) =>
    (await send('POST', '/allerac/v1/tokens', admin, { name, role: 'member' })).body.token as string;
  const agent = (slug: string, write: boolean) =>
    send('POST', '/allerac/v1/agents', admin, {
      slug,
      name: slug,
      models: { preferred: [CHAT], fallback: { capabilities: ['completion'], minParamsB: 0 } },
      memory: { spaces: ['private'], write },
    });

  beforeAll(async () => {
    t = await startTestNode({
      sim: { profile: 'fast', models: [CHAT, 'all-minilm:latest'], preload: [CHAT] },
    });
    admin = issueAdminToken(t.dataDir, 'test');
    alice = await member('alice');
    bob = await member('bob');
    expect((await agent('diary', true)).status).toBe(201);
    expect((await agent('quiet', false)).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await t?.teardown();
  });

  it('should propose what the user said about themselves after a chat with an agent that may write', async () => {
    const answer = await chat(alice, 'agent/diary', `${ALLERGY}. ${KEY}. What should I cook tonight?`);
    expect(answer.status).toBe(200);
    expect(answer.body.allerac.proposals).toEqual({ texts: [ALLERGY, KEY] });
    const pending = await proposals(alice);
    expect(pending.map((p) => p.text).sort()).toEqual([ALLERGY, KEY].sort());
    for (const p of pending) {
      expect(p.agent).toBe('diary');
      expect(p.conversationId).toBe(answer.headers.get('x-allerac-conversation'));
    }
    // Pending, not memories yet.
    const memories = await send('GET', '/allerac/v1/memories?space=private', alice);
    expect(memories.body.memories).toEqual([]);
    // The same statement again stays one proposal.
    await chat(alice, 'agent/diary', `${ALLERGY}.`);
    expect(await proposals(alice)).toHaveLength(2);
  });

  it("should show and act on one's own proposals only", async () => {
    const [first] = await proposals(alice);
    expect(await proposals(bob)).toEqual([]);
    expect(await proposals(admin)).toEqual([]);
    expect((await send('POST', `/allerac/v1/memories/proposals/${first!.id}/keep`, bob)).status).toBe(404);
    expect((await send('POST', `/allerac/v1/memories/proposals/${first!.id}/discard`, admin)).status).toBe(
      404,
    );
    expect(await proposals(alice)).toHaveLength(2);
    expect((await send('GET', '/allerac/v1/memories/proposals', 'not-a-token')).status).toBe(401);
  });

  it('should keep a proposal as a private memory of its user, found by search', async () => {
    const allergy = (await proposals(alice)).find((p) => p.text === ALLERGY)!;
    const kept = await send('POST', `/allerac/v1/memories/proposals/${allergy.id}/keep`, alice);
    expect(kept.status).toBe(201);
    expect(kept.body).toMatchObject({ text: ALLERGY, space: null, source: 'chat' });
    const found = await send('POST', '/allerac/v1/memories/search', alice, {
      query: 'nut allergy daughter',
      k: 1,
    });
    expect(found.body.results[0].text).toBe(ALLERGY);
    const others = await send('POST', '/allerac/v1/memories/search', bob, {
      query: 'nut allergy daughter',
      k: 5,
    });
    expect(others.body.results.map((r: Json) => r.text)).not.toContain(ALLERGY);
    expect((await proposals(alice)).map((p) => p.text)).toEqual([KEY]);
    expect((await send('POST', `/allerac/v1/memories/proposals/${allergy.id}/keep`, alice)).status).toBe(404);
  });

  it('should keep a proposal in a shared space when asked, and leave it pending for an unknown space', async () => {
    expect((await send('POST', '/allerac/v1/spaces', admin, { name: 'family' })).status).toBe(201);
    await chat(alice, 'agent/diary', 'Our dog is called Biscuit.');
    const dog = (await proposals(alice)).find((p) => p.text === 'Our dog is called Biscuit')!;
    const unknown = await send('POST', `/allerac/v1/memories/proposals/${dog.id}/keep`, alice, {
      space: 'nowhere',
    });
    expect(unknown.status).toBe(404);
    expect((await proposals(alice)).map((p) => p.id)).toContain(dog.id);
    const kept = await send('POST', `/allerac/v1/memories/proposals/${dog.id}/keep`, alice, {
      space: 'family',
    });
    expect(kept.status).toBe(201);
    expect(kept.body.space).toBe('family');
  });

  it('should discard a proposal', async () => {
    const [key] = await proposals(alice);
    const discarded = await send('POST', `/allerac/v1/memories/proposals/${key!.id}/discard`, alice);
    expect(discarded).toMatchObject({ status: 200, body: { discarded: key!.id } });
    expect(await proposals(alice)).toEqual([]);
    expect((await send('POST', `/allerac/v1/memories/proposals/${key!.id}/discard`, alice)).status).toBe(404);
    const search = await send('POST', '/allerac/v1/memories/search', alice, {
      query: 'spare key blue pot',
      k: 5,
    });
    expect(search.body.results.map((r: Json) => r.text)).not.toContain(KEY);
  });

  it('should answer bad input with a 400', async () => {
    const base = '/allerac/v1/memories/proposals';
    await chat(alice, 'agent/diary', 'My son plays the violin.');
    const [violin] = await proposals(alice);
    expect((await send('POST', `${base}/not-a-uuid/keep`, alice)).status).toBe(400);
    expect((await send('POST', `${base}/not-a-uuid/discard`, alice)).status).toBe(400);
    expect((await send('POST', `${base}/${violin!.id}/keep`, alice, { space: 5 })).status).toBe(400);
    expect((await send('POST', `${base}/${violin!.id}/keep`, alice, { space: 'family', x: 1 })).status).toBe(
      400,
    );
    expect((await send('POST', `${base}/${violin!.id}/keep`, alice, { space: 'a\u0000b' })).status).toBe(400);
    expect((await send('POST', `${base}/${violin!.id}/keep`, alice, [])).status).toBe(400);
    expect((await send('POST', `${base}/00000000-0000-4000-8000-000000000000/keep`, alice)).status).toBe(404);
    expect((await proposals(alice)).map((p) => p.id)).toEqual([violin!.id]);
  });

  it('should save nothing for an agent with memory.write false, and say so in the answer', async () => {
    const remember = await chat(alice, 'agent/quiet', 'Remember that the wifi password is on the fridge.');
    expect(remember.status).toBe(200);
    expect(remember.body.allerac.remembered).toBeUndefined();
    expect(remember.body.allerac.notRemembered).toEqual({
      text: 'the wifi password is on the fridge',
      reason: 'agent-write-off',
    });
    const statement = await chat(alice, 'agent/quiet', 'My son is seven years old.');
    expect(statement.body.allerac.proposals).toBeUndefined();
    const texts = (await send('GET', '/allerac/v1/memories', admin)).body.memories.map((m: Json) => m.text);
    expect(texts).not.toContain('the wifi password is on the fridge');
    expect((await proposals(alice)).map((p) => p.text)).not.toContain('My son is seven years old');
    // A plain model proposes nothing, and "remember" there saves as before.
    expect((await chat(alice, CHAT, 'My son is seven years old.')).body.allerac.proposals).toBeUndefined();
    const saved = await chat(alice, CHAT, 'Remember that the wifi password is on the fridge.');
    expect(saved.body.allerac.remembered.text).toBe('the wifi password is on the fridge');
  });
});
