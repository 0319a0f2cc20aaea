import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotWakeableError, UnknownSleeperError, WakeRateLimitedError } from '../src/wake/errors.js';
import { KnownPeers } from '../src/wake/known-peers.js';
import { macOfMagicPacket } from '../src/wake/magic-packet.js';
import { SleepingPeers } from '../src/wake/sleeping-peers.js';
import { WakeSender } from '../src/wake/wake-sender.js';
import { card, FakePresence, GAMING, MINI } from './helpers/wake-fixtures.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'allerac-wake-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('known peers', () => {
  it('should keep the resting card on disk, 0600, and read it back after a restart', async () => {
    const known = new KnownPeers({ dataDir: dir }, { logger });
    await known.load();
    await known.remember(card(GAMING), 5_000);
    await known.flush();
    const file = join(dir, 'known-peers.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const again = new KnownPeers({ dataDir: dir }, { logger });
    await again.load();
    const kept = again.get(GAMING);
    expect(kept?.lastSeen).toBe(5_000);
    // As it will be on waking: nothing loaded, idle, memory free; what wakes it is kept.
    expect(kept?.card.models[0]).toMatchObject({ name: 'llama3.1:8b', loaded: false });
    expect(kept?.card.models[0]?.contextLength).toBeUndefined();
    expect(kept?.card.load).toMatchObject({ activeTasks: 0, queueDepth: 0, slots: 2 });
    expect(kept?.card.hardware.ramFree).toBe(32e9);
    expect(kept?.card.hardware.gpus[0]?.vramFree).toBe(12e9);
    expect(kept?.card.macs).toEqual(['aa:bb:cc:dd:ee:01']);
    expect(JSON.parse(await readFile(file, 'utf8')).version).toBe(1);
  });

  it('should be bounded, dropping the longest unseen, and ignore a corrupt entry or file', async () => {
    const known = new KnownPeers({ dataDir: dir, max: 1 }, { logger });
    await known.remember(card(GAMING), 1_000);
    await known.remember(card(MINI), 2_000);
    await known.flush();
    expect(known.list().map((p) => p.card.peerId)).toEqual([MINI]);

    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      join(dir, 'known-peers.json'),
      JSON.stringify({
        version: 1,
        peers: [
          { card: { name: 'x' }, lastSeen: 1 },
          { card: card(GAMING), lastSeen: 3 },
        ],
      }),
    );
    const reread = new KnownPeers({ dataDir: dir }, { logger });
    await reread.load();
    expect(reread.list().map((p) => p.card.peerId)).toEqual([GAMING]);
    await writeFile(join(dir, 'known-peers.json'), '{not json');
    const broken = new KnownPeers({ dataDir: dir }, { logger });
    await broken.load();
    expect(broken.list()).toEqual([]);
  });

  it('should forget a removed peer', async () => {
    const known = new KnownPeers({ dataDir: dir }, { logger });
    await known.remember(card(GAMING), 1_000);
    await known.forget(GAMING);
    const reread = new KnownPeers({ dataDir: dir }, { logger });
    await reread.load();
    expect(reread.get(GAMING)).toBeUndefined();
  });
});

describe('sleeping peers', () => {
  async function setup() {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const presence = new FakePresence();
    const known = new KnownPeers({ dataDir: dir }, { logger });
    const sender = new WakeSender(
      { port: socket.address().port },
      {
        logger,
        interfaces: () => [
          { name: 'lo', mac: '00:00:00:00:00:02', address: '127.0.0.1', broadcast: '127.0.0.1' },
        ],
      },
    );
    const sleeping = new SleepingPeers({ known, presence, sender, logger, now: () => 9_000 });
    sleeping.start();
    sleeping.start();
    return { socket, presence, known, sleeping };
  }

  it('should list a paired peer as sleeping once it is gone, and wake it by name with its MAC', async () => {
    const { socket, presence, known, sleeping } = await setup();
    try {
      presence.emit('join', card(GAMING));
      await known.flush();
      expect(sleeping.list()).toEqual([]);
      presence.online.delete(GAMING);
      expect(sleeping.list()).toEqual([
        {
          id: GAMING,
          name: 'gaming-pc',
          models: ['llama3.1:8b'],
          wakeable: true,
          preferredWhenOn: true,
          lastSeen: 9_000,
        },
      ]);
      const packet = once(socket, 'message');
      const woken = await sleeping.wake('Gaming-PC');
      expect(woken.id).toBe(GAMING);
      expect(macOfMagicPacket((await packet)[0] as Buffer)).toBe('aa:bb:cc:dd:ee:01');
      expect(sleeping.list()[0]?.wokenAt).toBeDefined();
      await expect(sleeping.wake(GAMING)).rejects.toBeInstanceOf(WakeRateLimitedError);
    } finally {
      socket.close();
      await known.flush();
    }
  });

  it('should wake only paired, sleeping, Wake-on-LAN peers', async () => {
    const { socket, presence, known, sleeping } = await setup();
    try {
      await expect(sleeping.wake(GAMING)).rejects.toBeInstanceOf(UnknownSleeperError);
      presence.emit('join', card(GAMING));
      await expect(sleeping.wake(GAMING)).rejects.toBeInstanceOf(NotWakeableError);
      presence.emit('update', card(MINI, { wakeOnLan: false }));
      await known.flush();
      await expect(sleeping.wake(MINI)).rejects.toThrow(/Wake-on-LAN is off/);
    } finally {
      socket.close();
      await known.flush();
    }
  });

  it("should resolve a wait on the peer's join, and false on timeout or abort, leaving no listener", async () => {
    const { socket, presence, known, sleeping } = await setup();
    try {
      const before = presence.listenerCount();
      const waiting = sleeping.waitForJoin(GAMING, 60_000);
      presence.emit('update', card(MINI));
      presence.emit('join', card(GAMING));
      await expect(waiting).resolves.toBe(true);
      await expect(sleeping.waitForJoin(GAMING, 1)).resolves.toBe(true);
      await expect(sleeping.waitForJoin(MINI, 1)).resolves.toBe(false);
      const abort = new AbortController();
      const aborted = sleeping.waitForJoin(MINI, 60_000, abort.signal);
      abort.abort();
      await expect(aborted).resolves.toBe(false);
      expect(presence.listenerCount()).toBe(before);
      sleeping.stop();
      sleeping.stop();
      expect(presence.listenerCount()).toBe(before - 1);
    } finally {
      socket.close();
      await known.flush();
    }
  });
});
