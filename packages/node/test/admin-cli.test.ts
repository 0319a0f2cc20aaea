import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliProcess, cliResult, startNodeCli } from './helpers/cli-process.js';

const post = (url: string, path: string, body: unknown, cookie?: string) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie === undefined ? {} : { cookie }) },
    body: JSON.stringify(body),
  });

/** Logs in; the Cookie header of the new session, or the status when refused. */
async function login(url: string, username: string, password: string): Promise<string | number> {
  const response = await post(url, '/auth/login', { username, password });
  if (!response.ok) return response.status;
  return response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

const meStatus = async (url: string, cookie: string) =>
  (await fetch(`${url}/allerac/v1/me`, { headers: { cookie } })).status;

describe('allerac admin reset-password', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'allerac-admin-'));
  let node: (CliProcess & { url: string }) | undefined;
  afterAll(async () => {
    node?.child.kill('SIGKILL');
    await node?.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should reset a forgotten password through the running node, ending its sessions', async () => {
    node = await startNodeCli(dataDir);
    const setup = await post(node.url, '/auth/setup', { username: 'Marta', password: 'forgotten-1234' });
    expect(setup.status).toBe(201);
    const session = await login(node.url, 'marta', 'forgotten-1234');
    expect(typeof session).toBe('string');
    expect(await meStatus(node.url, session as string)).toBe(200);

    const reset = await cliResult(['admin', 'reset-password', 'marta', '--data-dir', dataDir]);
    expect(reset.code, reset.stderr).toBe(0);
    const [, password] = reset.stdout.match(/One-time password for marta: (\S+)/) ?? [];
    expect(password).toMatch(/^[A-Z2-9]{4}(-[A-Z2-9]{4}){3}$/);

    expect(await meStatus(node.url, session as string)).toBe(401);
    expect(await login(node.url, 'marta', 'forgotten-1234')).toBe(401);
    expect(typeof (await login(node.url, 'marta', password as string))).toBe('string');

    const unknown = await cliResult(['admin', 'reset-password', 'nobody', '--data-dir', dataDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no account is named "nobody"');
  }, 240_000);

  it('should reset it in the store of a stopped node, from stdin, and the old sessions stay ended', async () => {
    if (node === undefined) throw new Error('the first test did not start the node');
    // A password chosen over the API, and a session with it that the offline reset must end.
    const set = await cliResult(
      ['admin', 'reset-password', 'marta', '--data-dir', dataDir, '--password-stdin'],
      {
        input: 'chosen-before-stop\n',
      },
    );
    expect(set.code, set.stderr).toBe(0);
    const live = await login(node.url, 'marta', 'chosen-before-stop');
    expect(typeof live).toBe('string');
    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);

    const offline = await cliResult(
      ['admin', 'reset-password', 'MARTA', '--data-dir', dataDir, '--password-stdin'],
      { input: 'set-while-stopped-42\n' },
    );
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toContain('The password of MARTA is set');
    const tooShort = await cliResult(
      ['admin', 'reset-password', 'marta', '--data-dir', dataDir, '--password-stdin'],
      {
        input: 'short\n',
      },
    );
    expect(tooShort.code).toBe(1);
    expect(tooShort.stderr).toContain('at least 8 characters');

    node = await startNodeCli(dataDir);
    expect(await meStatus(node.url, live as string)).toBe(401);
    expect(await login(node.url, 'marta', 'chosen-before-stop')).toBe(401);
    expect(typeof (await login(node.url, 'marta', 'set-while-stopped-42'))).toBe('string');
  }, 300_000);
});
