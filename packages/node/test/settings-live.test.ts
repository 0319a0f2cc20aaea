/**
 * Issue #14, "Settings": the wizard's name and a rename from Settings take effect at once (the
 * card is re-published and peers see the new name), the Ollama URL switches without a restart,
 * and serving the home network is stored for the next start. Alice is renamed; bob watches.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerView } from '@allerac/mesh';
import { expectedAnswer, type OllamaSim, startOllamaSim } from '@allerac/ollama-sim';
import { Value } from '@sinclair/typebox/value';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { resolveStartConfig } from '../src/config.js';
import { SettingsUpdated } from '../src/contract/setup.js';
import { createNode } from '../src/daemon.js';
import type { MeshRuntime } from '../src/mesh-runtime.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const MODEL = 'llama3.2:3b';
const OTHER_MODEL = 'mistral:7b';
const EVENT_TIMEOUT_MS = 10_000;

/**
 * Resolves with the first peer view from `runtime` that `match` accepts, among the joins and
 * updates that arrive after this call; rejects when none arrives within the deadline.
 */
function nextPeerView(runtime: MeshRuntime, match: (view: PeerView) => boolean): Promise<PeerView> {
  return new Promise((resolve, reject) => {
    const onView = (evt: CustomEvent<PeerView>) => {
      if (!match(evt.detail)) return;
      done();
      resolve(evt.detail);
    };
    const deadline = setTimeout(() => {
      done();
      reject(new Error(`no matching peer view within ${EVENT_TIMEOUT_MS} ms`));
    }, EVENT_TIMEOUT_MS);
    const done = () => {
      clearTimeout(deadline);
      runtime.removeEventListener('peer:update', onView);
      runtime.removeEventListener('peer:join', onView);
    };
    runtime.addEventListener('peer:update', onView);
    runtime.addEventListener('peer:join', onView);
  });
}

describe('settings that take effect at once', () => {
  let alice: TestNode;
  let bob: TestNode;
  let otherOllama: OllamaSim;
  let admin: Record<string, string>;
  let session: Record<string, string>;

  const patch = (headers: Record<string, string>, payload: unknown) =>
    alice.node.http.inject({
      method: 'PATCH',
      url: '/allerac/v1/settings',
      headers,
      payload: payload as object,
    });

  beforeAll(async () => {
    alice = await startTestNode({ name: 'vm', sim: { profile: 'fast', models: [MODEL] } });
    bob = await startTestNode({
      name: 'bob',
      sim: false,
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    });
    otherOllama = await startOllamaSim({ profile: 'fast', models: [OTHER_MODEL] });
    admin = { authorization: `Bearer ${await issueAdminToken(alice.dataDir, 'test')}` };
    const created = await alice.node.http.inject({
      method: 'POST',
      url: '/auth/setup',
      payload: { username: 'ana', password: 'correct horse battery' },
    });
    expect(created.statusCode).toBe(201);
    const pairs = (created.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]!);
    const csrf = pairs.find((p) => p.startsWith('allerac_csrf='))!.split('=')[1]!;
    session = { cookie: pairs.join('; '), 'x-csrf-token': csrf };
    await waitFor(
      () => bob.node.mesh.peers().some((p) => p.name === 'vm' && p.status === 'online'),
      30_000,
      'bob to see alice as "vm"',
    );
  }, 60_000);
  afterAll(async () => {
    await bob?.teardown();
    await alice?.teardown();
    await otherOllama?.close();
  });

  it("should publish the wizard's name and specialisations at once", async () => {
    const seen = nextPeerView(bob.node.mesh, (view) => view.card.name === 'Sala de Estar 🛋️');
    const before = (await alice.node.mesh.mesh.localCard()).seq;
    const done = await alice.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/setup/complete',
      headers: session,
      payload: { agentName: '  Sala de Estar 🛋️ ', specializations: ['home', 'home', 'research'] },
    });
    expect(done.statusCode).toBe(200);
    const view = await seen;
    expect(view.card.specializations).toEqual(['home', 'research']);
    const card = await alice.node.mesh.mesh.localCard();
    expect(card.name).toBe('Sala de Estar 🛋️');
    expect(card.seq).toBeGreaterThan(before);
    const node = await alice.node.http.inject({ url: '/allerac/v1/node', headers: admin });
    expect(node.json()).toMatchObject({ name: 'Sala de Estar 🛋️', specializations: ['home', 'research'] });
  });

  it("should rename through PATCH /allerac/v1/settings, and bob's mesh view should follow", async () => {
    const seen = nextPeerView(bob.node.mesh, (view) => view.name === 'Гостиная');
    const renamed = await patch(admin, { agentName: 'Гостиная', specializations: ['code'] });
    expect(renamed.statusCode).toBe(200);
    expect([...Value.Errors(SettingsUpdated, renamed.json())]).toEqual([]);
    expect(renamed.json()).toMatchObject({
      settings: { 'agent.name': 'Гостиная', 'agent.specializations': ['code'] },
      restartRequired: false,
    });
    const view = await seen;
    expect(view.card.specializations).toEqual(['code']);
    // Every place that names this node uses the new name: health, the UI's state, answers.
    expect((await alice.node.http.inject({ url: '/health' })).json().name).toBe('Гостиная');
    expect((await alice.node.http.inject({ url: '/auth/state' })).json().node.name).toBe('Гостиная');
    const chat = await alice.node.http.inject({
      method: 'POST',
      url: '/api/chat',
      payload: { model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: false },
    });
    expect(chat.statusCode).toBe(200);
    expect(decodeURIComponent(chat.headers['x-allerac-node'] as string)).toBe('Гостиная');
    expect(chat.json().allerac.node).toBe('Гостиная');
    // Bob can pin a chat to alice by her new name.
    const pinned = await fetch(`${bob.node.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        stream: false,
        allerac: { node: 'Гостиная' },
      }),
    });
    expect(pinned.status).toBe(200);
  });

  it('should keep a name NFC-normalised, so the same name typed two ways is one name', async () => {
    const decomposed = 'Cafe\u0301';
    const seen = nextPeerView(bob.node.mesh, (view) => view.card.name === 'Café');
    const renamed = await patch(admin, { agentName: decomposed });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().settings['agent.name']).toBe('Café');
    expect((await alice.node.http.inject({ url: '/health' })).json().name).toBe('Café');
    await seen;
  });

  it('should move the backend to another Ollama at once', async () => {
    const moved = await patch(admin, { ollamaUrl: otherOllama.url });
    expect(moved.statusCode).toBe(200);
    expect(moved.json().restartRequired).toBe(false);
    expect(moved.json().settings['backend.ollamaUrl']).toBe(otherOllama.url);
    expect(alice.node.backend.health()).toMatchObject({ state: 'up', url: otherOllama.url });
    const messages = [{ role: 'user', content: 'which Ollama is this?' }];
    const chat = await alice.node.http.inject({
      method: 'POST',
      url: '/api/chat',
      payload: { model: OTHER_MODEL, messages, stream: false, allerac: { policy: 'local-first' } },
    });
    expect(chat.statusCode).toBe(200);
    expect(chat.json().message.content).toBe(expectedAnswer(OTHER_MODEL, messages));
    // Back to the first one, so the other tests' model is local again.
    const back = await patch(admin, { ollamaUrl: alice.sim!.url });
    expect(back.statusCode).toBe(200);
  });

  it('should store the chat and embedding models and the language', async () => {
    const changed = await patch(session, {
      chatModel: MODEL,
      embeddingModel: 'nomic-embed-text:latest',
      language: 'es',
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().settings).toMatchObject({
      'ui.chatModel': MODEL,
      'memory.embeddingModel': 'nomic-embed-text:latest',
      'ui.language': 'es',
    });
    expect((await alice.node.memory.embeddingStatus()).model).toBe('nomic-embed-text:latest');
  });

  it('should answer bad bodies with a 400 that names the field, and change nothing', async () => {
    const before = (await alice.node.http.inject({ url: '/allerac/v1/settings', headers: admin })).json();
    const bad: Array<[unknown, RegExp]> = [
      [{}, /at least one setting/],
      [{ agentName: 'ok', colour: 'blue' }, /colour/],
      [{ agentName: '   ' }, /agentName/],
      [{ agentName: 'bad\u0007bell' }, /control/],
      [{ agentName: 'evil\u202Eexe.txt' }, /bidirectional/],
      [{ agentName: '客'.repeat(65) }, /64/],
      [{ agentName: 42 }, /agentName/],
      [{ specializations: ['cooking'] }, /specializations/],
      [{ ollamaUrl: 'ftp://127.0.0.1:21' }, /ollamaUrl/],
      [{ ollamaUrl: 'http://user:secret@127.0.0.1:11434' }, /ollamaUrl/],
      [{ ollamaUrl: 'http://' }, /ollamaUrl/],
      [{ serveLan: 'yes' }, /serveLan/],
      [{ language: 'fr' }, /language/],
      [{ agentName: 'fine', ollamaUrl: 'not a url at all' }, /ollamaUrl/],
    ];
    for (const [payload, message] of bad) {
      const answer = await patch(admin, payload);
      expect({ payload, status: answer.statusCode }).toEqual({ payload, status: 400 });
      expect(JSON.stringify(answer.json())).toMatch(message);
    }
    const after = (await alice.node.http.inject({ url: '/allerac/v1/settings', headers: admin })).json();
    expect(after).toEqual(before);
    expect((await alice.node.mesh.mesh.localCard()).name).toBe('Café');
  });

  it('should refuse a member with 403 and a caller without credentials with 401', async () => {
    const issued = await alice.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/tokens',
      headers: admin,
      payload: { name: 'kid-tablet', role: 'member' },
    });
    expect(issued.statusCode).toBe(201);
    const member = { authorization: `Bearer ${issued.json().token}` };
    expect((await patch(member, { agentName: 'mine now' })).statusCode).toBe(403);
    expect((await patch({}, { agentName: 'mine now' })).statusCode).toBe(401);
    expect((await alice.node.mesh.mesh.localCard()).name).toBe('Café');
  });
});

describe('serving the home network: stored now, applied at the next start', () => {
  const logger = pino({ level: 'silent' });
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'allerac-serve-lan-'));
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  // Nodes here are built, never started: nothing listens, least of all on 0.0.0.0.
  const build = (httpHost?: string) =>
    createNode(
      resolveStartConfig(
        {
          name: 'porch',
          dataDir,
          httpPort: '0',
          p2pPort: '0',
          p2pHost: '127.0.0.1',
          mdns: 'off',
          ollamaUrl: 'http://127.0.0.1:9',
          ...(httpHost === undefined ? {} : { httpHost }),
        },
        {},
      ),
      { logger },
    );

  it('should say a restart is due, and listen on every interface from the next start', async () => {
    const first = await build();
    expect(first.config.httpHost).toBe('127.0.0.1');
    const headers = { authorization: `Bearer ${await issueAdminToken(dataDir, 'test')}` };
    const answer = await first.http.inject({
      method: 'PATCH',
      url: '/allerac/v1/settings',
      headers,
      payload: { serveLan: true },
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({ settings: { 'http.serveLan': true }, restartRequired: true });
    await first.close(0);

    const second = await build();
    expect(second.config.httpHost).toBe('0.0.0.0');
    await second.close(0);
  });

  it('should let an explicit --http-host win, and then need no restart', async () => {
    const node = await build('127.0.0.1');
    expect(node.config.httpHost).toBe('127.0.0.1');
    const headers = { authorization: `Bearer ${await issueAdminToken(dataDir, 'test')}` };
    const answer = await node.http.inject({
      method: 'PATCH',
      url: '/allerac/v1/settings',
      headers,
      payload: { serveLan: true },
    });
    expect(answer.json()).toMatchObject({ settings: { 'http.serveLan': true }, restartRequired: false });
    await node.close(0);
  });
});
