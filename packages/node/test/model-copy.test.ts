/**
 * Copying a model from a peer (#16): the holder serves its Ollama models directory over
 * MODELS_PROTOCOL, the receiver's Ollama (ollama-sim with a real store) pulls it through a
 * loopback registry, with real bytes whose sha256 it checks.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS_PROTOCOL } from '@allerac/protocol';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { afterEach, describe, expect, it } from 'vitest';
import type { OllamaObject } from '../src/backend/backend.js';
import { copyFromPeer } from '../src/models/peer-copy.js';
import { TransferTable } from '../src/models/transfers.js';
import {
  type HomeNode,
  logger,
  newHomeKey,
  online,
  spawnHolder,
  startHomeNode,
  stopAll,
  tempDir,
} from './helpers/model-copy-home.js';
import { waitFor } from './helpers/test-node.js';

afterEach(stopAll);

interface ManifestFile {
  config: { digest: string };
  layers: Array<{ digest: string; size: number }>;
}

const MODEL = 'llama3.2:3b';

function manifestOf(node: HomeNode, model = 'llama3.2', tag = '3b'): ManifestFile {
  return JSON.parse(
    readFileSync(join(node.storeDir, 'manifests', 'registry.ollama.ai', 'library', model, tag), 'utf8'),
  ) as ManifestFile;
}

function sha256File(path: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
}

async function tags(node: HomeNode): Promise<string[]> {
  const body = (await (await fetch(`${node.sim.url}/api/tags`)).json()) as {
    models: Array<{ name: string }>;
  };
  return body.models.map((m) => m.name);
}

async function copy(to: HomeNode, from: HomeNode, transfers = new TransferTable()): Promise<OllamaObject[]> {
  const seen: OllamaObject[] = [];
  const components = {
    backend: to.backend,
    open: to.mesh.openStream.bind(to.mesh),
    transfers,
    logger,
  };
  for await (const progress of copyFromPeer(
    components,
    MODEL,
    { id: from.mesh.peerId, name: from.name },
    AbortSignal.timeout(60_000),
  )) {
    seen.push(progress);
  }
  return seen;
}

describe('copying a model from a peer', () => {
  it('should copy a model held only by bob to alice, verified, and servable with bob stopped', async () => {
    const key = await newHomeKey();
    const bob = await startHomeNode('bob', key, { models: [MODEL], modelBytes: 2_000_000 });
    const alice = await startHomeNode('alice', key, { bootstrap: bob.mesh.addresses() });
    await online(alice, bob);
    expect(await tags(alice)).toEqual([]);

    const transfers = new TransferTable();
    const progress = await copy(alice, bob, transfers);

    const statuses = progress.map((p) => p.status);
    expect(statuses[0]).toBe('pulling manifest');
    expect(statuses).toContain('verifying sha256 digest');
    expect(statuses.at(-1)).toBe('success');
    const weights = manifestOf(bob).layers[0]!;
    expect(progress.some((p) => p.digest === weights.digest && p.completed === weights.size)).toBe(true);
    // Only the usual name is listed: the temporary 127.0.0.1 one was dropped.
    expect(await tags(alice)).toEqual([MODEL]);
    const bobManifest = manifestOf(bob);
    expect(manifestOf(alice)).toEqual(bobManifest);
    for (const layer of [bobManifest.config, ...bobManifest.layers]) {
      const file = `blobs/${layer.digest.replace(':', '-')}`;
      expect(sha256File(join(alice.storeDir, file))).toBe(layer.digest);
    }
    expect(transfers.list()).toMatchObject([{ model: MODEL, node: 'bob', source: 'peer', status: 'done' }]);
    expect(transfers.list()[0]!.total).toBeGreaterThanOrEqual(weights.size);

    await bob.stop();
    const chat = await fetch(`${alice.sim.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: false }),
    });
    expect(chat.status).toBe(200);
    expect(((await chat.json()) as { done: boolean }).done).toBe(true);
  });

  it('should detect a corrupted blob on the sender and refuse the model', async () => {
    const key = await newHomeKey();
    const bob = await startHomeNode('bob', key, { models: [MODEL], modelBytes: 1_000_000 });
    const alice = await startHomeNode('alice', key, { bootstrap: bob.mesh.addresses() });
    await online(alice, bob);
    const weights = manifestOf(bob).layers[0]!;
    // Same size, one flipped byte in the middle: only the sha256 can tell.
    const fd = openSync(join(bob.storeDir, 'blobs', weights.digest.replace(':', '-')), 'r+');
    writeSync(fd, Buffer.from([0x5a, 0xa5, 0x5a]), 0, 3, Math.floor(weights.size / 2));
    closeSync(fd);

    const transfers = new TransferTable();
    await expect(copy(alice, bob, transfers)).rejects.toThrow(/digest mismatch/);
    expect(await tags(alice)).toEqual([]);
    expect(readdirSync(join(alice.storeDir, 'blobs'))).not.toContain(weights.digest.replace(':', '-'));
    expect(transfers.list()).toMatchObject([
      { status: 'failed', error: expect.stringMatching(/digest mismatch/) },
    ]);
  });

  it('should not let a node on another mesh key, nor a bare libp2p peer, fetch a single byte', async () => {
    const bob = await startHomeNode('bob', await newHomeKey(), { models: [MODEL] });
    const eve = await startHomeNode('eve', await newHomeKey());
    const address = bob.mesh.addresses()[0]!;
    await expect(eve.mesh.connect(address, AbortSignal.timeout(10_000))).rejects.toThrow();
    await expect(copy(eve, bob)).rejects.toThrow();

    const bare = await createLibp2p({
      addresses: { listen: [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: { denyDialMultiaddr: () => false },
    });
    try {
      await expect(
        bare.dialProtocol(multiaddr(address), MODELS_PROTOCOL, { signal: AbortSignal.timeout(10_000) }),
      ).rejects.toThrow();
    } finally {
      await bare.stop();
    }
    expect(bob.served.streams).toBe(0);
    expect(await tags(eve)).toEqual([]);
  });

  it('should fail clearly when the sender is SIGKILLed halfway, list no broken model, and resume on the next pull', async () => {
    const key = await newHomeKey();
    const holderDir = tempDir('allerac-holder-');
    const config = {
      name: 'bob',
      dataDir: join(holderDir, 'data'),
      meshKeyFile: key,
      storeDir: join(holderDir, 'models'),
      models: [MODEL],
      // Large enough that the copy is still running when the kill lands.
      modelBytes: 64 * 1024 * 1024,
    };
    const bob = await spawnHolder(config);
    const alice = await startHomeNode('alice', key, { bootstrap: bob.addresses });
    await waitFor(
      () => alice.mesh.peers().some((p) => p.id === bob.peerId && p.status === 'online'),
      30_000,
      'bob online',
    );

    const manifest = JSON.parse(
      readFileSync(
        join(config.storeDir, 'manifests', 'registry.ollama.ai', 'library', 'llama3.2', '3b'),
        'utf8',
      ),
    ) as ManifestFile;
    const weights = manifest.layers[0]!;
    const from = { id: bob.peerId, name: 'bob' };
    const components = {
      backend: alice.backend,
      open: alice.mesh.openStream.bind(alice.mesh),
      transfers: new TransferTable(),
      logger,
    };
    let killedAt = 0;
    const first = (async () => {
      for await (const p of copyFromPeer(components, MODEL, from, AbortSignal.timeout(120_000))) {
        const completed = typeof p.completed === 'number' ? p.completed : 0;
        if (p.digest === weights.digest && killedAt === 0 && completed > 0 && completed < weights.size) {
          killedAt = completed;
          bob.child.kill('SIGKILL');
        }
      }
    })();
    await expect(first).rejects.toThrow();
    expect(killedAt).toBeGreaterThan(0);
    await bob.exited;
    // Nothing listed anywhere, and no manifest on disk: Ollama writes it only once every blob is whole.
    expect(await tags(alice)).toEqual([]);
    expect(components.transfers.list()[0]).toMatchObject({ status: 'failed' });

    const again = await spawnHolder(config);
    expect(again.peerId).toBe(bob.peerId);
    await alice.mesh.connect(again.addresses[0]!, AbortSignal.timeout(10_000));
    const progress: OllamaObject[] = [];
    for await (const p of copyFromPeer(components, MODEL, from, AbortSignal.timeout(120_000)))
      progress.push(p);
    expect(progress.at(-1)).toEqual({ status: 'success' });
    // The second pull resumed the parts the first one wrote rather than starting over.
    const resumedFrom = progress.find((p) => p.digest === weights.digest)?.completed as number;
    expect(resumedFrom).toBeGreaterThan(0);
    expect(await tags(alice)).toEqual([MODEL]);
    expect(sha256File(join(alice.storeDir, 'blobs', weights.digest.replace(':', '-')))).toBe(weights.digest);
  }, 120_000);
});
