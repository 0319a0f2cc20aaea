import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HardwareInfo } from '@allerac/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { listArchives } from '../src/backup/backup-files.js';
import { resolveStartConfig } from '../src/config.js';
import { createNode, NodeNotStartedError, NodeStoppedError } from '../src/daemon.js';
import { migrate } from '../src/store/migrate.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { openPgliteDatabase } from '../src/store/pglite-database.js';
import { createSystemProbe, type SystemProbe } from '../src/system/hardware.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A loopback config in a fresh data dir, with no Ollama (the node starts without one). */
function loopbackConfig(dataDir: string) {
  return resolveStartConfig(
    {
      name: 'porch',
      dataDir,
      httpPort: '0',
      p2pPort: '0',
      p2pHost: '127.0.0.1',
      mdns: 'off',
      bootstrap: '',
      ollamaUrl: 'http://127.0.0.1:9',
    },
    {},
  );
}

describe('createNode, the composition root', () => {
  const dirs: string[] = [];
  const dataDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'allerac-create-node-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('should be safe to start twice and stop twice, and refuse a start after stop', async () => {
    const node = await createNode(loopbackConfig(dataDir()), { logger });
    expect(() => node.url).toThrow(NodeNotStartedError);
    const first = node.start();
    const second = node.start();
    await Promise.all([first, second]);
    await node.start();
    const health = await fetch(`${node.url}/health`);
    expect(health.status).toBe(200);
    expect(node.http.server.listening).toBe(true);

    await Promise.all([node.stop(), node.stop()]);
    await node.stop();
    expect(node.http.server.listening).toBe(false);
    await expect(fetch(`${node.url}/health`)).rejects.toThrow();
    await expect(node.start()).rejects.toThrow(NodeStoppedError);
  }, 60_000);

  it('should stop cleanly a node that was never started', async () => {
    const node = await createNode(loopbackConfig(dataDir()), { logger });
    await node.stop();
    await node.stop();
    await expect(node.start()).rejects.toThrow(NodeStoppedError);
  }, 60_000);

  it('should back the data up before migrating a store of an older schema', async () => {
    const dir = dataDir();
    const old = await openPgliteDatabase(join(dir, 'db'));
    await migrate(
      old,
      MIGRATIONS.filter((m) => m.version === 1),
    );
    await old.query(`INSERT INTO settings (key, value) VALUES ('ui.language', '"pt"')`);
    await old.close();

    const node = await createNode(loopbackConfig(dir), { logger });
    try {
      expect(listArchives(join(dir, 'backups')).map((archive) => archive.kind)).toEqual(['pre-migrate']);
      expect(await node.store.settings.get('ui.language')).toBe('pt');
    } finally {
      await node.stop();
    }
  }, 60_000);

  it('should show the one probe, in the card shape, on the dashboard and in the card', async () => {
    const dir = dataDir();
    const real = createSystemProbe({ dataDir: dir });
    const hardware: HardwareInfo = {
      cpuModel: 'Allerac Test CPU 9000',
      cores: 12,
      ramTotal: 32 * 2 ** 30,
      ramFree: 20 * 2 ** 30 + 12_345,
      swapTotal: 2 ** 30,
      swapFree: 2 ** 30,
      gpus: [{ model: 'Test GPU', vramTotal: 8 * 2 ** 30, vramFree: 6 * 2 ** 30 + 999 }],
      diskFree: 100 * 2 ** 30 + 77,
    };
    // The probe's usage stays real; its hardware is one the test can recognise.
    const system: SystemProbe = { hardware: async () => hardware, usage: () => real.usage() };
    const node = await createNode(loopbackConfig(dir), { logger, system });
    try {
      await node.start();
      const headers = { authorization: `Bearer ${issueAdminToken(dir, 'test')}` };
      const dashboard = (await node.http.inject({ url: '/allerac/v1/dashboard', headers })).json();
      const self = (await node.http.inject({ url: '/allerac/v1/node', headers })).json();
      expect(dashboard.hardware).toEqual(hardware);
      // The card rounds free memory down (mesh.ts) but is the same shape from the same probe.
      expect(Object.keys(self.hardware).sort()).toEqual(Object.keys(hardware).sort());
      expect(self.hardware).toMatchObject({
        cpuModel: hardware.cpuModel,
        cores: 12,
        ramTotal: hardware.ramTotal,
      });
      expect(self.hardware.ramFree).toBeLessThanOrEqual(hardware.ramFree);
      expect(self.hardware.gpus).toEqual([
        expect.objectContaining({ model: 'Test GPU', vramTotal: 8 * 2 ** 30 }),
      ]);
    } finally {
      await node.stop();
    }
  }, 60_000);
});
