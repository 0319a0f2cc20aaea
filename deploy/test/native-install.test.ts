import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEPLOY_DIR, requireShellcheck, runScript } from './run-script.js';

// A real install on this machine, from the checkout: install.sh copies the already-built
// workspaces (their package "files") and the production node_modules that `npm ls --omit=dev`
// lists, so the test needs no network and takes seconds. This machine has no systemd, so the
// node runs through the documented fallback, <prefix>/bin/allerac-service.

const prefix = join(mkdtempSync(join(tmpdir(), 'allerac-native-')), 'prefix');
const pidfile = join(prefix, 'run', 'allerac.pid');

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

async function health(port: number): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: await response.json() };
  } catch {
    return undefined;
  }
}

function envFile(): Record<string, string> {
  return Object.fromEntries(
    readFileSync(join(prefix, '.env'), 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z][A-Z0-9_]*=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

function runningPid(): number | undefined {
  if (!existsSync(pidfile)) return undefined;
  const pid = Number(readFileSync(pidfile, 'utf8').trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

afterAll(async () => {
  // Whatever happened above, no node is left running.
  const pid = runningPid();
  if (pid !== undefined) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 40 && runningPid() !== undefined; i++) await new Promise((r) => setTimeout(r, 250));
    if (runningPid() !== undefined) process.kill(pid, 'SIGKILL');
  }
  rmSync(join(prefix, '..'), { recursive: true, force: true });
}, 30_000);

describe('install.sh --native on this machine', () => {
  let port = 0;
  const install = (...extra: string[]) =>
    runScript(
      'install.sh',
      ['--native', '--no-ollama', '--no-swap', '--prefix', prefix, '--yes', ...extra],
      // Loopback only, and any mesh port: tests never listen on the LAN.
      { ALLERAC_INIT: 'background', ALLERAC_HEALTH_TIMEOUT: '120' },
      240_000,
    );

  it('should install from the checkout and bring up a healthy node', async () => {
    port = await freePort();
    const result = await install('--http-port', String(port), '--http-host', '127.0.0.1', '--p2p-port', '0');
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain(`[ OK ] the node is healthy: http://127.0.0.1:${port}/health`);
    const reply = await health(port);
    expect(reply?.status).toBe(200);
    expect(reply?.body).toMatchObject({ version: expect.any(String) });

    expect(lstatSync(join(prefix, 'current')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(prefix, 'current'))).toMatch(/^versions\/\d+\.\d+\.\d+/);
    expect(existsSync(join(prefix, 'current', 'packages', 'node', 'dist', 'cli.js'))).toBe(true);
    // Dev tools stay behind: only the production tree is copied.
    expect(existsSync(join(prefix, 'current', 'node_modules', 'typescript'))).toBe(false);
    expect(existsSync(join(prefix, 'current', 'node_modules', 'fastify'))).toBe(true);

    const env = envFile();
    expect(env.ALLERAC_HTTP_PORT).toBe(String(port));
    expect(env.ALLERAC_DATA_DIR).toBe(join(prefix, 'data'));
    expect(env.POSTGRES_PASSWORD).toMatch(/^[0-9a-f]{48}$/);
    expect(statSync(join(prefix, '.env')).mode & 0o077).toBe(0);
    expect(runningPid()).toBeDefined();
  });

  it('should give a working admin token, service script and the metrics the dashboard charts', async () => {
    const token = execFileSync(join(prefix, 'bin', 'allerac'), ['token'], { encoding: 'utf8' }).trim();
    expect(token.length).toBeGreaterThan(10);
    const status = execFileSync(join(prefix, 'bin', 'allerac-service'), ['status'], { encoding: 'utf8' });
    expect(status).toContain('allerac is running');

    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const dashboard = JSON.parse(
      readFileSync(join(DEPLOY_DIR, 'monitoring', 'grafana', 'dashboards', 'allerac-node.json'), 'utf8'),
    ) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)).join('\n');
    const names = new Set(
      [...exprs.matchAll(/\ballerac_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
    );
    expect(names.size).toBeGreaterThan(5);
    for (const name of names) expect(metrics, name).toContain(`# TYPE ${name} `);

    requireShellcheck();
    execFileSync('shellcheck', [
      '--severity=style',
      join(prefix, 'bin', 'allerac'),
      join(prefix, 'bin', 'allerac-service'),
    ]);
  });

  it('should be idempotent when re-run, keeping settings and secrets', async () => {
    const before = envFile();
    const firstPid = runningPid();
    const result = await install();
    expect(result.code, result.output).toBe(0);
    expect((await health(port))?.status).toBe(200);
    expect(envFile()).toEqual(before);
    expect(readdirSync(join(prefix, 'versions'))).toHaveLength(1);
    const secondPid = runningPid();
    expect(secondPid).toBeDefined();
    expect(secondPid).not.toBe(firstPid);
  });

  it('should uninstall, keeping the data without --purge and removing it with --purge', async () => {
    const kept = await runScript('uninstall.sh', ['--prefix', prefix, '--yes']);
    expect(kept.code, kept.output).toBe(0);
    expect(runningPid()).toBeUndefined();
    expect(await health(port)).toBeUndefined();
    for (const gone of ['current', 'versions', 'bin', 'runtime'])
      expect(existsSync(join(prefix, gone)), gone).toBe(false);
    expect(existsSync(join(prefix, 'data'))).toBe(true);
    expect(readdirSync(join(prefix, 'data')).length).toBeGreaterThan(0);
    expect(existsSync(join(prefix, '.env'))).toBe(true);

    const purged = await runScript('uninstall.sh', ['--prefix', prefix, '--yes', '--purge']);
    expect(purged.code, purged.output).toBe(0);
    expect(existsSync(prefix)).toBe(false);
  });

  it('should refuse to uninstall a directory it did not install', async () => {
    const result = await runScript('uninstall.sh', ['--prefix', tmpdir(), '--yes', '--purge']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not an Allerac install');
    expect(existsSync(tmpdir())).toBe(true);
  });
});
