/**
 * Agents named in any script: the name travels percent-encoded in the X-Allerac-Node header
 * (http/node-header.ts) and as it is in JSON bodies and cards. Alice, "Sala de Estar 🛋️ 客厅",
 * holds the model; bob, "Гостиная", has no Ollama and asks alice over the mesh.
 */
import { join } from 'node:path';
import { expectedAnswer } from '@allerac/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, resolveStartConfig } from '../src/config.js';
import { decodeNodeHeader, encodeNodeHeader } from '../src/http/node-header.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const ALICE = 'Sala de Estar 🛋️ 客厅';
const BOB = 'Гостиная';
const MODEL = 'llama3.2:3b';
const messages = [{ role: 'user', content: 'what is on the shelf?' }];

/** A chat that must answer within seconds: a hang fails the test instead of stalling it. */
async function post(node: TestNode, path: string, body: unknown): Promise<Response> {
  return fetch(`${node.node.url}${path}`, {
    method: 'POST',
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
}

function servedBy(response: Response): string | null {
  const header = response.headers.get('x-allerac-node');
  return header === null ? null : decodeURIComponent(header);
}

describe('unicode names: a node named in any script serves every chat, locally and to a peer', () => {
  let alice: TestNode;
  let bob: TestNode;

  beforeAll(async () => {
    alice = await startTestNode({ name: ALICE, sim: { profile: 'fast', models: [MODEL] } });
    bob = await startTestNode({
      name: BOB,
      sim: false,
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    });
    await waitFor(
      () => bob.node.mesh.peers().some((p) => p.name === ALICE && p.models.includes(MODEL)),
      30_000,
      'bob to see alice, by her name, with her model',
    );
  }, 60_000);
  afterAll(async () => {
    await bob?.teardown();
    await alice?.teardown();
  });

  it('should keep plain ASCII names without spaces as they are, and round-trip any other', () => {
    expect(encodeNodeHeader('office-pc_2')).toBe('office-pc_2');
    for (const name of [ALICE, BOB, 'a b', '100%', 'a,b;c"d']) {
      const encoded = encodeNodeHeader(name);
      expect(encoded).toMatch(/^[\x21-\x7e]+$/);
      expect(decodeNodeHeader(encoded)).toBe(name);
    }
    // A header that is not valid percent-encoding is shown as it came, not thrown on.
    expect(decodeNodeHeader('%E0%A4%A')).toBe('%E0%A4%A');
  });

  it('should take any printable name from --name, and refuse control and bidi characters', () => {
    const config = (name: string) => resolveStartConfig({ name, dataDir: alice.dataDir }, {});
    expect(config(`  ${ALICE} `).name).toBe(ALICE);
    expect(config('Cafe\u0301').name).toBe('Café');
    expect(config('客'.repeat(64)).name).toHaveLength(64);
    for (const bad of ['', '   ', 'tab\there', 'evil\u202Efdp.exe', 'line\u2028break', '客'.repeat(65)]) {
      expect(() => config(bad)).toThrow(ConfigError);
    }
    expect(() => config('a\u2066b')).toThrow(/--name must not hold bidirectional-text controls/);
  });

  for (const [where, asker] of [
    ['locally', () => alice],
    ['to a peer', () => bob],
  ] as const) {
    it(`should serve a non-streamed and a streamed /api/chat ${where}`, async () => {
      const whole = await post(asker(), '/api/chat', { model: MODEL, messages, stream: false });
      expect(whole.status).toBe(200);
      expect(servedBy(whole)).toBe(ALICE);
      const body = (await whole.json()) as { message: { content: string }; allerac: { node: string } };
      expect(body.message.content).toBe(expectedAnswer(MODEL, messages));
      expect(body.allerac.node).toBe(ALICE);

      const streamed = await post(asker(), '/api/chat', { model: MODEL, messages });
      expect(streamed.status).toBe(200);
      expect(servedBy(streamed)).toBe(ALICE);
      const lines = (await streamed.text())
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { message?: { content: string }; allerac?: { node: string } });
      expect(lines.map((l) => l.message?.content ?? '').join('')).toBe(expectedAnswer(MODEL, messages));
      expect(lines.at(-1)?.allerac?.node).toBe(ALICE);
    });

    it(`should serve a non-streamed and a streamed /v1/chat/completions ${where}`, async () => {
      const whole = await post(asker(), '/v1/chat/completions', { model: MODEL, messages });
      expect(whole.status).toBe(200);
      expect(servedBy(whole)).toBe(ALICE);
      const body = (await whole.json()) as { choices: Array<{ message: { content: string } }> };
      expect(body.choices[0]?.message.content).toBe(expectedAnswer(MODEL, messages));

      const streamed = await post(asker(), '/v1/chat/completions', { model: MODEL, messages, stream: true });
      expect(streamed.status).toBe(200);
      expect(servedBy(streamed)).toBe(ALICE);
      const text = await streamed.text();
      expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    });
  }

  it('should pin a chat to a node by its unicode name', async () => {
    const pinned = await post(bob, '/api/chat', {
      model: MODEL,
      messages,
      stream: false,
      allerac: { node: ALICE },
    });
    expect(pinned.status).toBe(200);
    expect(servedBy(pinned)).toBe(ALICE);
  });

  it('should encode the name in the embedding answer and the model management header too', async () => {
    const embed = await post(bob, '/api/embed', { model: MODEL, input: 'shelf' });
    expect(embed.status).toBe(200);
    expect(servedBy(embed)).toBe(ALICE);
    const copied = await post(alice, '/api/copy', { source: MODEL, destination: 'copy-of:3b' });
    expect(copied.status).toBe(200);
    expect(servedBy(copied)).toBe(ALICE);
  });
});
