import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import type { PeerSummary } from '../src/mesh-runtime.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

/** One server-sent event, with when it arrived. */
interface LiveEvent {
  event: string;
  data: unknown;
  at: number;
}

/** Reads GET /allerac/v1/events and lets a test wait for an event that matches. */
async function openEvents(url: string, token: string) {
  const controller = new AbortController();
  const response = await fetch(`${url}/allerac/v1/events`, {
    headers: { authorization: `Bearer ${token}` },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const events: LiveEvent[] = [];
  const waiters = new Set<() => void>();
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === undefined || data === undefined) continue;
          events.push({ event, data: JSON.parse(data), at: Date.now() });
          for (const wake of waiters) wake();
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    events,
    /** Resolves with the first event (old or new) that matches. */
    next(predicate: (event: LiveEvent) => boolean, what: string, timeoutMs = 20_000): Promise<LiveEvent> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(predicate);
          if (found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${what} event within ${timeoutMs} ms; got ${events.map((e) => e.event)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => controller.abort(),
  };
}

const peersWith = (name: string, status: PeerSummary['status']) => (event: LiveEvent) =>
  event.event === 'peers' &&
  (event.data as PeerSummary[]).some((p) => p.name === name && p.status === status);

describe('the live event stream (GET /allerac/v1/events)', () => {
  let alice: TestNode;
  let bob: TestNode | undefined;
  let injected = 0;

  beforeAll(async () => {
    alice = await startTestNode({ name: 'alice', sim: false });
    // The stream must read the mesh itself: a request the node sends to its own API counts here.
    const inject = alice.node.http.inject.bind(alice.node.http);
    alice.node.http.inject = ((...args: Parameters<typeof inject>) => {
      injected += 1;
      return inject(...args);
    }) as typeof inject;
  }, 60_000);

  afterAll(async () => {
    await bob?.teardown();
    await alice?.teardown();
  });

  it('should send the peers when a peer joins and leaves, from the mesh events, without calling its own API', async () => {
    const stream = await openEvents(alice.node.url, issueAdminToken(alice.dataDir, 'test'));
    try {
      const first = await stream.next((e) => e.event === 'peers', 'initial peers');
      expect(first.data).toEqual([]);
      expect((await stream.next((e) => e.event === 'node', 'node')).data).toMatchObject({ name: 'alice' });
      await stream.next((e) => e.event === 'system', 'system sample');

      let joinedAt: number | undefined;
      alice.node.mesh.addEventListener('peer:join', () => {
        joinedAt ??= Date.now();
      });
      bob = await startTestNode({
        name: 'bob',
        sim: false,
        meshKeyFile: join(alice.dataDir, 'mesh.key'),
        bootstrap: alice.node.mesh.mesh.addresses(),
      });
      const joined = await stream.next(peersWith('bob', 'online'), 'peers with bob online');
      expect(joinedAt).toBeDefined();
      expect(joined.at).toBeGreaterThanOrEqual(joinedAt as number);

      await bob.teardown();
      bob = undefined;
      await stream.next(peersWith('bob', 'gone'), 'peers with bob gone');
      expect(injected).toBe(0);
    } finally {
      stream.close();
    }
  }, 60_000);
});
