/** Links SpaceSync instances through an in-memory, ordered, JSON-serialising "wire" that records every frame. */
import { InMemorySpaceStorage, SpaceSync, type SpaceSyncInit } from '../../src/index.js';

/** One frame as it crossed the wire. */
export interface Frame {
  from: string;
  to: string;
  json: string;
}

/** A named node with its sync and storage. */
export interface TestPeer {
  id: string;
  sync: SpaceSync;
  storage: InMemorySpaceStorage;
}

/** A small in-memory network. */
export class TestNet {
  readonly frames: Frame[] = [];
  readonly errors: Error[] = [];
  private inflight = 0;
  private readonly links = new Set<string>();

  async peer(
    id: string,
    storage = new InMemorySpaceStorage(),
    init: Omit<SpaceSyncInit, 'nodeId'> = {},
  ): Promise<TestPeer> {
    const sync = new SpaceSync({ ...init, nodeId: id }, { storage });
    await sync.start();
    return { id, sync, storage };
  }

  connect(a: TestPeer, b: TestPeer): void {
    this.links.add(`${a.id}|${b.id}`);
    this.links.add(`${b.id}|${a.id}`);
    a.sync.addPeer(b.id, (message) => this.deliver(a, b, message));
    b.sync.addPeer(a.id, (message) => this.deliver(b, a, message));
  }

  disconnect(a: TestPeer, b: TestPeer): void {
    this.links.delete(`${a.id}|${b.id}`);
    this.links.delete(`${b.id}|${a.id}`);
    a.sync.removePeer(b.id);
    b.sync.removePeer(a.id);
  }

  /** Resolves once no message is in flight (bounded). */
  async settle(): Promise<void> {
    for (let i = 0; i < 10_000; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.inflight === 0) return;
    }
    throw new Error('the network did not settle');
  }

  private deliver(from: TestPeer, to: TestPeer, message: unknown): void {
    const json = JSON.stringify(message);
    this.frames.push({ from: from.id, to: to.id, json });
    this.inflight++;
    setImmediate(() => {
      const live = this.links.has(`${from.id}|${to.id}`);
      const done = live ? to.sync.receive(from.id, JSON.parse(json)) : Promise.resolve();
      done
        .catch((error: Error) => this.errors.push(error))
        .finally(() => {
          this.inflight--;
        });
    });
  }
}

/** A memory for tests. */
export function memory(id: string, text: string, tags: string[] = []) {
  const now = Date.now();
  return { id, text, tags, source: 'user' as const, createdAt: now, updatedAt: now };
}
