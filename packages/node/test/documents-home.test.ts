import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { makePdf } from './helpers/pdf-fixture.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON; the assertions check them
type Json = any;

const MODEL = 'llama3.2:3b';
/** The research agent's first preferred model the home has. */
const RESEARCH_MODEL = 'llama3.1:8b';
const RESEARCH_QUESTION = 'what do the home documents say about the water softener?';
/** Both simulators: asked that by the research agent, the model searches the documents. */
const toolCalls = {
  [RESEARCH_QUESTION]: [{ name: 'documents.search', arguments: { query: 'water softener salt' } }],
};

/** Two nodes of one home on loopback: a PDF alice imports into a shared space is found on bob. */
describe('documents across the home', () => {
  let alice: TestNode;
  let bob: TestNode;
  let aliceToken: string;
  let bobToken: string;
  const call = async (node: TestNode, token: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${node.node.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as Json) };
  };

  beforeAll(async () => {
    const models = [MODEL, RESEARCH_MODEL, 'all-minilm:latest'];
    const sim = { profile: 'fast', models, toolCalls, recordRequests: true } as const;
    alice = await startTestNode({ name: 'alice', sim });
    aliceToken = issueAdminToken(alice.dataDir, 'test');
    const { addresses } = (await call(alice, aliceToken, 'GET', '/allerac/v1/node')).body as {
      addresses: string[];
    };
    bob = await startTestNode({
      name: 'bob',
      sim,
      meshKeyFile: `${alice.dataDir}/mesh.key`,
      bootstrap: addresses,
    });
    bobToken = issueAdminToken(bob.dataDir, 'test');
    await waitFor(
      () => alice.node.mesh.peers().some((p) => p.name === 'bob' && p.status === 'online'),
      30_000,
      'alice to see bob',
    );
    for (const [node, token] of [
      [alice, aliceToken],
      [bob, bobToken],
    ] as const) {
      expect(
        (await call(node, token, 'POST', '/allerac/v1/spaces', { name: 'household', peers: 'all' })).status,
      ).toBe(201);
    }
  }, 120_000);

  afterAll(async () => {
    await bob?.teardown();
    await alice?.teardown();
  });

  it('should find on bob, with its citation, a PDF alice imported into a shared space', async () => {
    const pdf = makePdf([
      'Heat pump service log: the filter was cleaned in May.',
      'The water softener takes salt tablets; refill it when the float drops below the red line.',
    ]);
    const response = await fetch(
      `${alice.node.url}/allerac/v1/documents?name=utility-room.pdf&space=household`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${aliceToken}`, 'content-type': 'application/pdf' },
        body: pdf,
      },
    );
    expect(response.status).toBe(201);
    const imported = (await response.json()) as Json;
    const query = 'refill the water softener salt tablets';
    let results: Json[] = [];
    await waitFor(
      async () => {
        results = (
          await call(bob, bobToken, 'POST', '/allerac/v1/documents/search', { query, spaces: ['household'] })
        ).body.results;
        return results.some((r) => r.documentId === imported.id);
      },
      30_000,
      'bob to find the document',
    );
    expect(results[0]).toMatchObject({
      documentId: imported.id,
      name: 'utility-room.pdf',
      space: 'household',
    });
    expect(results[0].text).toContain('water softener');
    expect(results[0].citation).toBe(`[utility-room.pdf, part ${results[0].part}]`);
    const listed = await call(bob, bobToken, 'GET', '/allerac/v1/documents?space=household');
    expect(listed.body.documents).toEqual([
      expect.objectContaining({
        id: imported.id,
        name: 'utility-room.pdf',
        type: 'pdf',
        parts: imported.parts,
      }),
    ]);

    // A chat bob serves draws on the part and names it the way the answer cites it.
    const chat = await call(bob, bobToken, 'POST', '/api/chat', {
      model: MODEL,
      stream: false,
      messages: [{ role: 'user', content: 'how do I refill the water softener salt tablets?' }],
      allerac: { node: 'bob' },
    });
    expect(chat.status).toBe(200);
    expect(chat.body.allerac.memories).toContainEqual(
      expect.objectContaining({ citation: results[0].citation, space: 'household' }),
    );

    // Bob's research agent searches the documents itself (the server-side tool loop), and the
    // model reads the part with its citation in the tool's answer.
    const research = await call(bob, bobToken, 'POST', '/api/chat', {
      model: 'agent/research',
      stream: false,
      messages: [{ role: 'user', content: RESEARCH_QUESTION }],
    });
    expect(research.status).toBe(200);
    expect(research.body.model).toBe('agent/research');
    const [searched] = research.body.allerac.toolCalls as Json[];
    expect(searched).toMatchObject({ name: 'documents.search', action: false });
    expect(searched.result.passages).toContainEqual(
      expect.objectContaining({ citation: results[0].citation, space: 'household' }),
    );
    const told = [alice, bob]
      .flatMap((n) => n.sim?.requests() ?? [])
      .filter((r) => r.path === '/api/chat')
      .flatMap((r) => (JSON.parse(String(r.body)) as Json).messages as Json[])
      .filter((m) => m.role === 'tool' && m.tool_name === 'documents.search');
    expect(told.at(-1)?.content).toContain(results[0].citation);

    // Deleting on alice removes it from bob too.
    expect((await call(alice, aliceToken, 'DELETE', `/allerac/v1/documents/${imported.id}`)).status).toBe(
      204,
    );
    await waitFor(
      async () =>
        (await call(bob, bobToken, 'GET', '/allerac/v1/documents?space=household')).body.documents.length ===
        0,
      30_000,
      'bob to drop the document',
    );
  }, 90_000);
});
