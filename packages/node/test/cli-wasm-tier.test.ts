import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OllamaSim, startOllamaSim } from '@allerac/ollama-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/node-process.js';
import { waitFor } from './helpers/test-node.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'allerac.js');
const canExecve = typeof (process as { execve?: unknown }).execve === 'function';

describe.skipIf(!canExecve)(
  'the allerac command (needs process.execve: Node 22.15 or later, not Windows)',
  () => {
    let sim: OllamaSim;
    let child: ChildProcess | undefined;
    const dataDir = mkdtempSync(join(tmpdir(), 'allerac-wasm-tier-'));

    beforeAll(async () => {
      sim = await startOllamaSim({ profile: 'fast' });
    });

    afterAll(async () => {
      if (child !== undefined && child.exitCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('should serve from the process it was started as, with WebAssembly on the baseline compiler only', async () => {
      const port = await freePort();
      const started = spawn(
        process.execPath,
        [BIN, 'start', '--http-port', String(port), '--http-host', '127.0.0.1', '--p2p-port', '0'],
        {
          env: {
            ...process.env,
            ALLERAC_DATA_DIR: dataDir,
            ALLERAC_OLLAMA_URL: sim.url,
            ALLERAC_MDNS: 'off',
            ALLERAC_P2P_HOST: '127.0.0.1',
            ALLERAC_LOG_LEVEL: 'warn',
          },
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      child = started;
      await waitFor(
        async () => {
          if (started.exitCode !== null) throw new Error(`allerac exited with ${started.exitCode}`);
          return (await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.ok === true;
        },
        60_000,
        'the node to be healthy',
      );
      const argv = readFileSync(`/proc/${started.pid}/cmdline`, 'utf8').split('\0');
      expect(argv.slice(0, 3)).toEqual([process.execPath, '--liftoff-only', BIN]);
      expect(argv).toContain('start');
    }, 90_000);
  },
);
