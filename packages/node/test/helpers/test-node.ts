import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OllamaSim, type OllamaSimOptions, startOllamaSim } from '@allerac/ollama-sim';
import { pino } from 'pino';
import { resolveStartConfig } from '../../src/config.js';
import { type AlleracNode, createNode } from '../../src/daemon.js';
import type { SystemProbe } from '../../src/system/hardware.js';

/** A node on loopback backed by an ollama-sim, in a temporary data dir. */
export interface TestNode {
  node: AlleracNode;
  sim: OllamaSim | undefined;
  dataDir: string;
  teardown(): Promise<void>;
}

/** Starts ollama-sim (unless `sim: false`) and a node pointing at it. */
export async function startTestNode(
  options: {
    name?: string;
    sim?: OllamaSimOptions | false;
    ollamaUrl?: string;
    bootstrap?: string[];
    /** Another node's mesh key file, to join its home. */
    meshKeyFile?: string;
    /** Directories the node may write backups into (--backup-dirs). */
    backupDirs?: string[];
    /** The machine's hardware as the node probes it; the real one by default. */
    system?: SystemProbe;
    /** The Ollama models directory the node shares (--ollama-models-dir). */
    ollamaModelsDir?: string;
    /** Requests that may wait for a slot before the node answers busy (ALLERAC_MAX_QUEUE). */
    maxQueue?: number;
  } = {},
): Promise<TestNode> {
  const sim = options.sim === false ? undefined : await startOllamaSim(options.sim ?? {});
  const dataDir = mkdtempSync(join(tmpdir(), 'allerac-node-'));
  const config = resolveStartConfig(
    {
      name: options.name ?? 'alice',
      dataDir,
      httpPort: '0',
      httpHost: '127.0.0.1',
      p2pPort: '0',
      ollamaUrl: options.ollamaUrl ?? sim?.url ?? 'http://127.0.0.1:9',
      logLevel: 'silent',
      // Tests stay on loopback: no multicast on the host's network, peers found by address.
      p2pHost: '127.0.0.1',
      mdns: 'off',
      bootstrap: (options.bootstrap ?? []).join(','),
      ...(options.meshKeyFile !== undefined ? { meshKeyFile: options.meshKeyFile } : {}),
      ...(options.backupDirs !== undefined ? { backupDirs: options.backupDirs.join(',') } : {}),
      ...(options.ollamaModelsDir !== undefined ? { ollamaModelsDir: options.ollamaModelsDir } : {}),
    },
    options.maxQueue !== undefined ? { ALLERAC_MAX_QUEUE: String(options.maxQueue) } : {},
  );
  const node = await createNode(config, {
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...(options.system !== undefined ? { system: options.system } : {}),
  });
  try {
    await node.start();
  } catch (error) {
    await node.close(0);
    await sim?.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    node,
    sim,
    dataDir,
    async teardown() {
      await node.close(1_000);
      await sim?.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 50 ms until it returns true, for at most `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
