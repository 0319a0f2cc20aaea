import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionCaps, openFileLimit } from '../src/http/connection-limits.js';
import { freePort } from './helpers/node-process.js';
import { waitFor } from './helpers/test-node.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli.js');
/** The descriptor limit the review used when 450 slow logins crashed the node. */
const FD_LIMIT = 400;
const SLOW_CLIENTS = 450;

/** Opens a connection from `localAddress` that starts a login and never finishes the body. */
function slowLogin(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.on('error', () => {});
    socket.connect({ port, host: '127.0.0.1', localAddress }, () => {
      socket.write(
        `POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"username":`,
      );
      resolve(socket);
    });
    // A refused or cut connection resolves too: the test counts what stays open.
    socket.once('close', () => resolve(socket));
  });
}

describe('connection limits and descriptor exhaustion', () => {
  let child: ChildProcess;
  let dataDir: string;
  let url: string;
  let port: number;
  let output = '';

  beforeAll(async () => {
    port = await freePort();
    dataDir = mkdtempSync(join(tmpdir(), 'allerac-limits-'));
    child = spawn(
      'prlimit',
      [
        `--nofile=${FD_LIMIT}:${FD_LIMIT}`,
        process.execPath,
        CLI,
        'start',
        '--http-port',
        String(port),
        '--p2p-port',
        '0',
        '--data-dir',
        dataDir,
        '--ollama-url',
        'http://127.0.0.1:9',
        '--log-level',
        'warn',
      ],
      {
        env: { ...process.env, ALLERAC_MDNS: 'off', ALLERAC_P2P_HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    url = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`node exited: ${output}`);
        return (await fetch(`${url}/health`).catch(() => undefined))?.ok === true;
      },
      60_000,
      'the node to be healthy',
    );
  }, 90_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should read its descriptor limit', () => {
    expect(openFileLimit()).toBeGreaterThan(0);
  });

  it('should stay up and answer others while one client trickles hundreds of slow logins', async () => {
    // All from 127.0.0.2, so the node's per-client cap applies to them and not to the check below.
    const sockets = await Promise.all(
      Array.from({ length: SLOW_CLIENTS }, () => slowLogin(port, '127.0.0.2')),
    );
    await waitFor(
      () => sockets.filter((s) => !s.destroyed).length <= connectionCaps(FD_LIMIT).perClient,
      10_000,
      'the node to cut the connections over the per-client cap',
    );
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    for (const socket of sockets) socket.destroy();
    const login = await fetch(`${url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'nobody', password: 'wrong password' }),
    });
    expect(login.status).toBe(401);
    expect(child.exitCode).toBeNull();
    expect(output).not.toMatch(/EMFILE/);
  }, 60_000);
});
