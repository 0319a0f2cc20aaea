import { describe, expect, it } from 'vitest';
import { LocalLoad, NodeBusyError, peerLimits } from '../src/inference/local-load.js';

const never = new AbortController().signal;

/** Whether `promise` has settled by the time already-queued callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('LocalLoad: a per-peer share of the slots and the queue', () => {
  it('should give one peer at most its share of the slots, and keep the rest for this node and others', async () => {
    const load = new LocalLoad(4, 16);
    const { slots: share } = peerLimits(load);
    expect(share).toBe(2);
    for (let i = 0; i < share; i++) await load.acquire(never, 'bob');
    const third = load.acquire(never, 'bob');
    // Past its share a peer waits, although slots are free.
    expect(await settled(third)).toBe(false);
    expect(load.snapshot()).toMatchObject({ activeTasks: 2, queueDepth: 1 });
    // This node's own requests and another peer's still start at once.
    const local = await load.acquire(never);
    const carol = await load.acquire(never, 'carol');
    expect(load.snapshot()).toMatchObject({ activeTasks: 4, queueDepth: 1 });
    local();
    // The freed slot is not bob's to take: bob is still at his share.
    expect(await settled(third)).toBe(false);
    const another = await load.acquire(never);
    another();
    carol();
    expect(await settled(third)).toBe(false);
    expect(load.snapshot()).toMatchObject({ activeTasks: 2, queueDepth: 1 });
  });

  it('should hand a slot to a waiting peer once one of its own generations ends', async () => {
    const load = new LocalLoad(4, 16);
    const first = await load.acquire(never, 'bob');
    await load.acquire(never, 'bob');
    const third = load.acquire(never, 'bob');
    first();
    expect(await settled(third)).toBe(true);
    expect(load.snapshot()).toMatchObject({ activeTasks: 2, queueDepth: 0 });
  });

  it('should refuse a peer that floods past its share of the queue, while this node still queues', async () => {
    const load = new LocalLoad(4, 16);
    const { slots, queue } = peerLimits(load);
    expect(queue).toBe(8);
    const waiting: Array<Promise<unknown>> = [];
    for (let i = 0; i < slots; i++) await load.acquire(never, 'flood');
    for (let i = 0; i < queue; i++) waiting.push(load.acquire(never, 'flood'));
    await expect(load.acquire(never, 'flood')).rejects.toBeInstanceOf(NodeBusyError);
    // Two slots and half the queue are left for everyone else.
    await load.acquire(never);
    await load.acquire(never, 'carol');
    const localQueued = load.acquire(never);
    expect(await settled(localQueued)).toBe(false);
    expect(load.snapshot()).toMatchObject({ activeTasks: 4, queueDepth: queue + 1 });
    for (const w of waiting) expect(await settled(w)).toBe(false);
  });

  it('should leave a node with a single slot serving peers, one at a time', async () => {
    const load = new LocalLoad(1, 2);
    expect(peerLimits(load)).toEqual({ slots: 1, queue: 1 });
    const release = await load.acquire(never, 'bob');
    release();
    release();
    expect(load.snapshot()).toMatchObject({ activeTasks: 0, queueDepth: 0 });
  });

  it('should drop a waiter whose request is cancelled', async () => {
    const load = new LocalLoad(1, 4);
    const held = await load.acquire(never);
    const controller = new AbortController();
    const waiting = load.acquire(controller.signal, 'bob');
    controller.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    expect(load.snapshot()).toMatchObject({ activeTasks: 1, queueDepth: 0 });
    held();
    expect(load.snapshot()).toMatchObject({ activeTasks: 0, queueDepth: 0 });
  });
});
