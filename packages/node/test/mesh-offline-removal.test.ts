/**
 * Issue #11, "`peers remove` while a node was offline: that node comes back on the old key,
 * together with the removed one". dave is away while alice removes charlie; charlie keeps running
 * on the old key. dave must not become charlie's way back in, must say it is out of date, and
 * comes back only with a fresh join.
 */
import { readFileSync } from 'node:fs';
import { applyJoin, parseSwarmKey, RetiredJoinCodeError } from '@allerac/mesh';
import { CARD_PROTOCOL } from '@allerac/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOllamaBackend } from '../src/backend/ollama-backend.js';
import { LocalLoad } from '../src/inference/local-load.js';
import { LocalModels } from '../src/inference/local-models.js';
import { MeshRuntime } from '../src/mesh-runtime.js';
import { type Home, type HomeNode, type LogLine, startHome, until } from './fixtures/mesh-home.js';

const HARDWARE = { cpuModel: 'test', cores: 2, ramTotal: 1, ramFree: 1, gpus: [], diskFree: 1 };

describe('key rotation while a node is offline', () => {
  let home: Home;
  let alice: HomeNode;
  let bob: HomeNode;
  let charlie: HomeNode;
  let dave: HomeNode;
  let oldKey: Uint8Array;

  beforeAll(async () => {
    home = await startHome(['alice', 'bob', 'charlie', 'dave']);
    alice = home.node('alice');
    bob = home.node('bob');
    charlie = home.node('charlie');
    dave = home.node('dave');
    oldKey = parseSwarmKey(readFileSync(dave.meshKeyFile));
  }, 60_000);

  afterAll(async () => {
    await home?.teardown();
  });

  it('should rotate without the offline node and lock charlie out', async () => {
    await dave.stop();
    await alice.mesh.removePeer(charlie.id);
    await until('bob to adopt the new key', () => bob.key() === alice.key());
    await until('alice and bob to reconnect', () => alice.sees(bob) && bob.sees(alice));
    expect(charlie.key()).toBe(dave.key());
    expect(alice.view(charlie)).toBeUndefined();
  }, 60_000);

  it('should tell dave, back on the old key, that it is out of date, and keep charlie away from him', async () => {
    const charlieAt = charlie.mesh.addresses()[0] as string;
    await dave.restart();
    // What mDNS does on a LAN: dave finds charlie again, who still holds the old key (unless alice
    // was quicker). alice, who cannot reach dave on the new key, tells him which rotation retired it.
    await dave.mesh.connect(charlieAt).catch(() => undefined);
    await until(
      'dave to learn that his key is out of date',
      () => dave.mesh.keyStatus().state === 'out-of-date',
      45_000,
    );
    expect(dave.mesh.keyStatus().message).toMatch(/mesh key out of date.*join again with a fresh code/);
    expect(dave.logged('mesh-key-out-of-date')).toMatchObject({ state: 'out-of-date' });
    await until('charlie to lose dave', () => !charlie.sees(dave) && !dave.sees(charlie));
    // dave refuses everyone on the retired key, so charlie cannot come back through him.
    await charlie.mesh.connect(dave.mesh.addresses()[0] as string).catch(() => undefined);
    await expect(charlie.mesh.openStream(dave.id, CARD_PROTOCOL)).rejects.toThrow();
    expect(dave.sees(charlie)).toBe(false);
    expect(alice.sees(dave) || bob.sees(dave)).toBe(false);
    expect(alice.view(charlie) ?? bob.view(charlie)).toBeUndefined();
  }, 90_000);

  it('should refuse to re-join dave with the old code', async () => {
    await expect(dave.mesh.join(oldKey)).rejects.toBeInstanceOf(RetiredJoinCodeError);
    expect(dave.mesh.keyStatus().state).toBe('out-of-date');
  });

  it('should re-admit dave with a fresh join, at the home’s epoch, while charlie stays out', async () => {
    const fresh = parseSwarmKey(readFileSync(alice.meshKeyFile));
    await expect(dave.mesh.join(fresh)).resolves.toBe('joined');
    await dave.mesh.connect(alice.mesh.addresses()[0] as string);
    await dave.mesh.connect(bob.mesh.addresses()[0] as string);
    await until(
      'dave to be back with alice and bob',
      () => dave.sees(alice) && dave.sees(bob) && alice.sees(dave),
    );
    await until('dave to learn the epoch', () => dave.mesh.keyStatus().state === 'current');
    expect(dave.mesh.keyStatus()).toMatchObject({
      epoch: 1,
      lastRotation: { issuer: alice.id, removed: charlie.id },
    });
    await expect(charlie.mesh.connect(dave.mesh.addresses()[0] as string)).rejects.toThrow();
    expect(dave.view(charlie)).toBeUndefined();
  }, 60_000);

  it('should ignore an old `--join` code at start on a node that took part in the rotation', async () => {
    // A node started with `--join <code>` in its service file gets that code again at every start.
    const keyBefore = bob.key();
    expect(await applyJoin(bob.dataDir, bob.meshKeyFile, oldKey)).toBe('retired');
    const logs: LogLine[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
    );
    const backend = createOllamaBackend({ url: 'http://127.0.0.1:9' }, { logger });
    const runtime = new MeshRuntime(
      {
        name: () => 'bob',
        dataDir: bob.dataDir,
        meshKeyFile: bob.meshKeyFile,
        p2pHost: '127.0.0.1',
        p2pPort: 0,
        mdns: false,
        bootstrap: [],
        specializations: () => [],
      },
      {
        backend,
        localModels: new LocalModels(backend),
        load: new LocalLoad(),
        hardware: async () => HARDWARE,
        logger,
      },
    );
    // Codes are invitations now; one of the old format (the key itself) is ignored at start too.
    await runtime.joinAtStart(`ALRC-${'0'.repeat(58)}`);
    expect(bob.key()).toBe(keyBefore);
    expect(logs.find((l) => l.event === 'join-code-legacy')).toBeDefined();
  });
});
