/**
 * The bulk lane of model copying (#16): blob ranges over a TLS 1.3 PSK connection beside the
 * mesh, keyed by one-time tickets that only the mesh stream hands out; the mesh stream stays the
 * fallback and the path to holders without a lane.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { OllamaObject } from '../src/backend/backend.js';
import { BulkLaneServer, MAX_LANE_CONNECTIONS } from '../src/models/bulk-lane.js';
import { exactly, LaneUnavailableError, laneHostOf, openLane } from '../src/models/bulk-lane-client.js';
import { copyFromPeer } from '../src/models/peer-copy.js';
import { TransferTable } from '../src/models/transfers.js';
import {
  type HomeNode,
  logger,
  newHomeKey,
  online,
  startHomeNode,
  stopAll,
  tempDir,
} from './helpers/model-copy-home.js';

const MODEL = 'llama3.2:3b';
const lanes: BulkLaneServer[] = [];

afterEach(async () => {
  for (const lane of lanes.splice(0)) await lane.close();
  await stopAll();
});

function startLane(options: { now?: () => number; maxLanes?: number } = {}): BulkLaneServer {
  const lane = new BulkLaneServer({ host: '127.0.0.1', logger, ...options });
  lanes.push(lane);
  return lane;
}

function blobFile(bytes: number): { path: string; data: Buffer } {
  const data = randomBytes(bytes);
  const path = join(tempDir('allerac-lane-'), 'blob');
  writeFileSync(path, data);
  return { path, data };
}

async function readLane(host: string, ticket: Parameters<typeof openLane>[1]): Promise<Buffer> {
  const socket = await openLane(host, ticket);
  const chunks: Uint8Array[] = [];
  await pipeline(socket, exactly(ticket.length), async (source: AsyncIterable<Uint8Array>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}

/** Every line a logger wrote, parsed. */
function recordingLogger() {
  const lines: Array<{ msg: string }> = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

interface ManifestFile {
  config: { digest: string };
  layers: Array<{ digest: string; size: number }>;
}

function manifestOf(node: HomeNode): ManifestFile {
  return JSON.parse(
    readFileSync(join(node.storeDir, 'manifests', 'registry.ollama.ai', 'library', 'llama3.2', '3b'), 'utf8'),
  ) as ManifestFile;
}

function sha256File(path: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
}

/** alice copies MODEL from `from` with the remote addresses of her mesh connection to it. */
async function copy(to: HomeNode, from: HomeNode, log = logger): Promise<OllamaObject[]> {
  const addresses = to.mesh.peers().find((p) => p.id === from.mesh.peerId)?.addresses ?? [];
  const components = {
    backend: to.backend,
    open: to.mesh.openStream.bind(to.mesh),
    transfers: new TransferTable(),
    logger: log,
  };
  const seen: OllamaObject[] = [];
  const holder = { id: from.mesh.peerId, name: from.name, addresses };
  for await (const progress of copyFromPeer(components, MODEL, holder, AbortSignal.timeout(60_000)))
    seen.push(progress);
  return seen;
}

function expectSameModel(to: HomeNode, from: HomeNode): void {
  const manifest = manifestOf(from);
  expect(manifestOf(to)).toEqual(manifest);
  for (const layer of [manifest.config, ...manifest.layers]) {
    expect(sha256File(join(to.storeDir, 'blobs', layer.digest.replace(':', '-')))).toBe(layer.digest);
  }
}

describe('the bulk lane', () => {
  it('should carry exactly the range its ticket names, once', async () => {
    const lane = startLane();
    const { path, data } = blobFile(3 * 1024 * 1024 + 17);
    const ticket = (await lane.issue({ path, start: 1000, end: data.length - 1 }))!;
    expect(ticket.length).toBe(data.length - 1000);

    expect((await readLane('127.0.0.1', ticket)).equals(data.subarray(1000))).toBe(true);
    await expect(readLane('127.0.0.1', ticket)).rejects.toBeInstanceOf(LaneUnavailableError);
    expect(lane.stats).toMatchObject({ bytes: data.length - 1000, lanes: 1 });
  });

  it('should refuse an expired ticket, a wrong key and an unknown identity with no byte sent', async () => {
    let now = 1_000_000;
    const lane = startLane({ now: () => now });
    const { path } = blobFile(64 * 1024);
    const file = { path, start: 0, end: 64 * 1024 - 1 };

    const expired = (await lane.issue(file))!;
    now += 30_000;
    await expect(openLane('127.0.0.1', expired)).rejects.toBeInstanceOf(LaneUnavailableError);

    const wrongKey = { ...(await lane.issue(file))!, key: randomBytes(32).toString('base64') };
    await expect(openLane('127.0.0.1', wrongKey)).rejects.toBeInstanceOf(LaneUnavailableError);

    const unknown = { ...(await lane.issue(file))!, identity: randomBytes(16).toString('hex') };
    await expect(openLane('127.0.0.1', unknown)).rejects.toBeInstanceOf(LaneUnavailableError);

    expect(lane.stats).toMatchObject({ bytes: 0, lanes: 0, issued: 3 });
  });

  it('should bound its tickets and lanes, and issue none once closed', async () => {
    const lane = startLane({ maxLanes: 2 });
    const { path } = blobFile(1024);
    const file = { path, start: 0, end: 1023 };
    // Asked at once, while the lane is still starting to listen.
    const tickets = await Promise.all([lane.issue(file), lane.issue(file), lane.issue(file)]);
    expect(tickets.filter((t) => t !== undefined)).toHaveLength(2);
    expect(await lane.issue(file)).toBeUndefined();
    await lane.close();
    const fresh = startLane();
    await fresh.close();
    expect(await fresh.issue(file)).toBeUndefined();
  });

  it('should bound the connections it holds, so LAN hosts that never shake hands cannot exhaust it', async () => {
    const lane = startLane();
    const { path } = blobFile(1024);
    const ticket = (await lane.issue({ path, start: 0, end: 1023 }))!;
    // Raw TCP connections that send nothing: each would hold a handshake for its timeout.
    const idle: Socket[] = [];
    for (let i = 0; i < MAX_LANE_CONNECTIONS; i++) {
      const socket = netConnect(ticket.port, '127.0.0.1');
      await once(socket, 'connect');
      idle.push(socket);
    }
    const extra = netConnect(ticket.port, '127.0.0.1');
    // The server closes a connection past its bound at once.
    await once(extra, 'close');
    for (const socket of idle) expect(socket.destroyed).toBe(false);
    for (const socket of idle) socket.destroy();
  });

  it('should push back on a receiver that reads nothing, and cut its lane on close', async () => {
    const lane = startLane();
    const path = join(tempDir('allerac-lane-'), 'blob');
    writeFileSync(path, Buffer.alloc(32 * 1024 * 1024));
    const ticket = (await lane.issue({ path, start: 0, end: 32 * 1024 * 1024 - 1 }))!;
    const socket = await openLane('127.0.0.1', ticket);
    // One chunk in: the lane is serving; then the receiver reads nothing more.
    await new Promise((resolve) => socket.once('data', resolve));
    socket.pause();
    const served = new Promise<{ bytes: number; error?: Error }>((resolve) => lane.once('served', resolve));
    await lane.close();
    const cut = await served;
    expect(cut.error).toBeDefined();
    // The holder pushed back: it read no more than the socket buffers hold, not the whole file.
    expect(cut.bytes).toBeLessThan(16 * 1024 * 1024);
    socket.destroy();
  });

  it('should pass exactly the bytes of a range, and fail one that ends short or runs long', async () => {
    const drain = async (chunks: Buffer[], length: number) =>
      pipeline(Readable.from(chunks), exactly(length), async (source: AsyncIterable<Uint8Array>) => {
        for await (const _ of source);
      });
    await expect(drain([Buffer.alloc(3), Buffer.alloc(2)], 5)).resolves.toBeUndefined();
    await expect(drain([Buffer.alloc(3)], 5)).rejects.toThrow(/2 bytes short/);
    await expect(drain([Buffer.alloc(3), Buffer.alloc(3)], 5)).rejects.toThrow(/ran past/);
  });

  it('should take the host of a direct TCP connection from its multiaddr', () => {
    expect(laneHostOf(['/ip4/192.168.1.20/tcp/4001/p2p/12D3KooW'])).toBe('192.168.1.20');
    expect(laneHostOf(['/ip4/10.0.0.1/tcp/1/p2p/A/p2p-circuit/p2p/B', '/ip6/::1/tcp/4001'])).toBe('::1');
    expect(laneHostOf(['/ip4/10.0.0.1/udp/1/quic-v1'])).toBeUndefined();
  });
});

describe('copying a model over the bulk lane', () => {
  it("should copy bob's model to alice through the lane, bytes and digests equal", async () => {
    const key = await newHomeKey();
    const bob = await startHomeNode('bob', key, { models: [MODEL], modelBytes: 4_000_000, lane: true });
    const alice = await startHomeNode('alice', key, { bootstrap: bob.mesh.addresses() });
    await online(alice, bob);

    const progress = await copy(alice, bob);

    expect(progress.at(-1)).toEqual({ status: 'success' });
    expectSameModel(alice, bob);
    const weights = manifestOf(bob).layers[0]!;
    // Every range of the weights went over the lane, none over the mesh stream.
    expect(bob.lane!.stats.bytes).toBeGreaterThanOrEqual(weights.size);
    expect(bob.lane!.stats.lanes).toBeGreaterThan(0);
  });

  it('should fall back to the mesh stream at once when the lane is refused, and say so', async () => {
    const key = await newHomeKey();
    const bob = await startHomeNode('bob', key, { models: [MODEL], modelBytes: 2_000_000, lane: true });
    const alice = await startHomeNode('alice', key, { bootstrap: bob.mesh.addresses() });
    await online(alice, bob);
    // The holder's lane port closes between the ticket and the connection.
    bob.lane!.once('ticket', () => void bob.lane!.close());
    const { log, lines } = recordingLogger();

    const progress = await copy(alice, bob, log);

    expect(progress.at(-1)).toEqual({ status: 'success' });
    expectSameModel(alice, bob);
    expect(bob.lane!.stats).toMatchObject({ issued: 1, lanes: 0, bytes: 0 });
    expect(lines.some((l) => l.msg === 'bulk lane unavailable: copying over the mesh stream')).toBe(true);
  });

  it('should copy over the mesh stream from a holder without a lane (an older node)', async () => {
    const key = await newHomeKey();
    const bob = await startHomeNode('bob', key, { models: [MODEL], modelBytes: 1_000_000 });
    const alice = await startHomeNode('alice', key, { bootstrap: bob.mesh.addresses() });
    await online(alice, bob);
    expect((await copy(alice, bob)).at(-1)).toEqual({ status: 'success' });
    expectSameModel(alice, bob);
  });

  it('should give an unpaired node no ticket', async () => {
    const bob = await startHomeNode('bob', await newHomeKey(), { models: [MODEL], lane: true });
    const eve = await startHomeNode('eve', await newHomeKey());
    await expect(eve.mesh.connect(bob.mesh.addresses()[0]!, AbortSignal.timeout(10_000))).rejects.toThrow();
    const addresses = bob.mesh.addresses();
    const components = {
      backend: eve.backend,
      open: eve.mesh.openStream.bind(eve.mesh),
      transfers: new TransferTable(),
      logger,
    };
    const holder = { id: bob.mesh.peerId, name: 'bob', addresses };
    await expect(
      (async () => {
        for await (const _ of copyFromPeer(components, MODEL, holder, AbortSignal.timeout(30_000)));
      })(),
    ).rejects.toThrow();
    expect(bob.served.streams).toBe(0);
    expect(bob.lane!.stats).toMatchObject({ issued: 0, lanes: 0, bytes: 0 });
  });
});
