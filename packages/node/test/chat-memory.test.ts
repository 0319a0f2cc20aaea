import { join } from 'node:path';
import { type OllamaSimOptions, type RecordedRequest, startOllamaSim } from '@allerac/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const CHAT = 'llama3.2:3b';
const PRIVATE = 'the garage safe code is 7391';
const FAMILY = 'the garage safe holds the passports';
const WORK = 'the garage safe spare key is at the office';
const QUESTION = 'what about the garage safe?';
/** Only alice has the embedding model, so her memories are embedded at home. */
const ALICE_SIM: OllamaSimOptions = {
  profile: 'fast',
  models: [CHAT, 'all-minilm:latest'],
  preload: [CHAT],
  recordRequests: true,
};

interface Final {
  message?: { content: string };
  error?: string;
  done?: boolean;
  allerac?: {
    node: string;
    failovers: number;
    memory?: { scope: string; used: number };
    memories?: Array<{ id: string; text: string; space: string | null }>;
  };
}

/** The chat requests a simulator received, with their messages. */
function chatsReceived(
  requests: RecordedRequest[],
): Array<{ messages: Array<{ role: string; content: string }> }> {
  return requests.filter((r) => r.method === 'POST' && r.path === '/api/chat').map((r) => JSON.parse(r.body));
}

/** Every byte any request to a simulator carried. */
function everythingSent(requests: RecordedRequest[]): string {
  return requests.map((r) => r.body).join('\n');
}

describe('private memories stay home: a chat carries memories chosen for the node that serves it', () => {
  let alice: TestNode;
  let bob: TestNode;
  let bobId: string;

  const ask = async (allerac: Record<string, unknown>): Promise<{ status: number; final: Final }> => {
    const response = await fetch(`${alice.node.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({
        model: CHAT,
        messages: [{ role: 'user', content: QUESTION }],
        stream: false,
        allerac,
      }),
    });
    return { status: response.status, final: (await response.json()) as Final };
  };

  beforeAll(async () => {
    alice = await startTestNode({ name: 'alice', sim: ALICE_SIM });
    bob = await startTestNode({
      name: 'bob',
      sim: { profile: 'fast', models: [CHAT], preload: [CHAT], recordRequests: true },
      meshKeyFile: join(alice.dataDir, 'mesh.key'),
      bootstrap: alice.node.mesh.mesh.addresses(),
    });
    bobId = bob.node.mesh.mesh.peerId;
    await waitFor(
      () =>
        alice.node.mesh
          .peers()
          .some((p) => p.id === bobId && p.status === 'online' && p.models.includes(CHAT)),
      30_000,
      'alice to see bob with the chat model',
    );
    const memory = alice.node.memory;
    await memory.add({ text: PRIVATE });
    await memory.createSpace('family', { peers: [bobId] });
    await memory.add({ text: FAMILY, space: 'family' });
    // A space bob may not hold.
    await memory.createSpace('work', { peers: [] });
    await memory.add({ text: WORK, space: 'work' });
    await memory.embeddingIdle();
  }, 120_000);

  /** Starts alice's Ollama again on its port, after a fault killed it, and waits for her to see it. */
  const restartAliceOllama = async () => {
    const port = alice.sim!.port;
    await alice.sim!.close();
    alice.sim = await startOllamaSim({ ...ALICE_SIM, port });
    await waitFor(() => alice.node.backend.health().state === 'up', 30_000, "alice's Ollama to be back");
  };

  afterAll(async () => {
    await bob?.teardown();
    await alice?.teardown();
    // A restarted Ollama is not the one the helper started.
    await alice?.sim?.close();
  });

  it('should add private and shared memories when this node serves', async () => {
    const { status, final } = await ask({ node: 'alice' });
    expect(status).toBe(200);
    expect(final.allerac?.node).toBe('alice');
    expect(final.allerac?.memory).toEqual({ scope: 'private+shared', used: 3 });
    const [sent] = chatsReceived(alice.sim!.requests()).slice(-1);
    const context = sent!.messages.find((m) => m.role === 'system')!.content;
    for (const text of [PRIVATE, FAMILY, WORK]) expect(context).toContain(text);
  });

  it("should give a peer only the memories of spaces it may hold, and say so: inspect bob's Ollama", async () => {
    const { status, final } = await ask({ node: 'bob' });
    expect(status).toBe(200);
    const all = everythingSent(bob.sim!.requests());
    expect(all).not.toContain('7391');
    expect(all).not.toContain(WORK);
    const [sent] = chatsReceived(bob.sim!.requests()).slice(-1);
    expect(sent!.messages.find((m) => m.role === 'system')?.content).toContain(FAMILY);
    expect(final.allerac?.node).toBe('bob');
    expect(final.allerac?.memory).toEqual({ scope: 'shared', used: 1 });
    expect(final.allerac?.memories?.map((m) => m.text)).toEqual([FAMILY]);
  });

  it('should prepare the request again, for the peer, when this node fails before its first token', async () => {
    // alice's Ollama dies as her chat starts (after it embedded the question).
    alice.sim!.setFaults({ exitAfterTokens: 0 });
    const before = chatsReceived(bob.sim!.requests()).length;
    try {
      const { status, final } = await ask({ policy: 'local-first' });
      expect(status).toBe(200);
      expect(final.allerac).toMatchObject({
        node: 'bob',
        failovers: 1,
        memory: { scope: 'shared', used: 1 },
      });
      const retried = chatsReceived(bob.sim!.requests()).slice(before);
      expect(retried).toHaveLength(1);
      expect(JSON.stringify(retried)).toContain(FAMILY);
      expect(everythingSent(bob.sim!.requests())).not.toContain('7391');
    } finally {
      await restartAliceOllama();
    }
  });

  it('should send a peer no memories at all when it may hold none of the spaces', async () => {
    await alice.node.memory.spaces.setPolicy('family', { peers: [] });
    try {
      const before = chatsReceived(bob.sim!.requests()).length;
      const { status, final } = await ask({ node: 'bob' });
      expect(status).toBe(200);
      expect(final.allerac?.memory).toEqual({ scope: 'none', used: 0 });
      expect(final.allerac?.memories).toBeUndefined();
      const [sent] = chatsReceived(bob.sim!.requests()).slice(before);
      expect(sent!.messages.map((m) => m.role)).toEqual(['user']);
    } finally {
      await alice.node.memory.spaces.setPolicy('family', { peers: [bobId] });
    }
  });

  it('should not hand a peer an answer begun with private memories when this node dies mid-answer', async () => {
    const before = bob.sim!.requests().length;
    // alice's Ollama dies after three tokens of an answer drawn from her private memory.
    alice.sim!.setFaults({ exitAfterTokens: 3 });
    const response = await fetch(`${alice.node.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({
        model: CHAT,
        messages: [{ role: 'user', content: QUESTION }],
        allerac: { policy: 'local-first' },
      }),
    });
    expect(response.status).toBe(200);
    const lines = (await response.text())
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Final);
    expect(lines.at(-1)?.error).toMatch(/memories that no other node/);
    expect(
      bob
        .sim!.requests()
        .slice(before)
        .filter((r) => r.path === '/api/chat'),
    ).toEqual([]);
  });
});

describe('private memories are embedded at home, never by a peer', () => {
  let carol: TestNode;
  let dave: TestNode;

  beforeAll(async () => {
    // Carol has no embedding model of her own; dave, her peer, has one.
    carol = await startTestNode({
      name: 'carol',
      sim: { profile: 'fast', models: [CHAT], preload: [CHAT], recordRequests: true },
    });
    dave = await startTestNode({
      name: 'dave',
      sim: { profile: 'fast', models: [CHAT, 'all-minilm:latest'], recordRequests: true },
      meshKeyFile: join(carol.dataDir, 'mesh.key'),
      bootstrap: carol.node.mesh.mesh.addresses(),
    });
    const daveId = dave.node.mesh.mesh.peerId;
    await waitFor(
      () => carol.node.mesh.peers().some((p) => p.id === daveId && p.models.includes('all-minilm:latest')),
      30_000,
      'carol to see dave with the embedding model',
    );
  }, 90_000);

  afterAll(async () => {
    await dave?.teardown();
    await carol?.teardown();
  });

  it("should keep a private memory's text off the peer's Ollama, and the memory unindexed", async () => {
    const secret = 'the spare house key is under the blue pot';
    const added = await carol.node.memory.add({ text: secret });
    // The store has the memory; with no local embedding model it has no vector yet.
    expect((await carol.node.memory.get(added.id)).embeddingModel).toBeNull();
    // The memory settings say so: the memory counts as not embedded (the '' model).
    expect((await carol.node.memory.embeddingStatus()).counts['']).toBe(1);
    expect(everythingSent(dave.sim!.requests())).not.toContain('blue pot');
  });
});
