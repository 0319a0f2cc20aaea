import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, issueAdminToken, TokenVerifier } from '../src/auth/api-tokens.js';
import { readTokenFile, tokenFilePath } from '../src/auth/token-file.js';
import { parseDuration, resolveExpiry, TokenLifetimeError } from '../src/auth/token-lifetime.js';
import { resolveStartConfig } from '../src/config.js';
import { type RunningNode, startNode } from '../src/daemon.js';
import { openPgliteDatabase } from '../src/store/pglite-database.js';
import { createStore } from '../src/store/store.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

/** Runs the real CLI; never throws, returns the exit code. */
async function allerac(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', CLI, ...args], {
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('token lifetimes', () => {
  it('should read durations and refuse what is not one', () => {
    expect(parseDuration('30d')).toBe(30 * 24 * 3600_000);
    expect(parseDuration('12h')).toBe(12 * 3600_000);
    expect(parseDuration('2w')).toBe(14 * 24 * 3600_000);
    for (const bad of ['', '30', 'd', '-1d', '1.5h', '0d', '3x'])
      expect(() => parseDuration(bad)).toThrow(TokenLifetimeError);
  });

  it('should resolve expiresIn and expiresAt, and refuse both, the past and more than ten years', () => {
    const now = new Date('2030-01-01T00:00:00Z');
    expect(resolveExpiry({}, now)).toBeUndefined();
    expect(resolveExpiry({ expiresIn: '1h' }, now)?.toISOString()).toBe('2030-01-01T01:00:00.000Z');
    expect(resolveExpiry({ expiresIn: 60 }, now)?.toISOString()).toBe('2030-01-01T00:01:00.000Z');
    expect(resolveExpiry({ expiresAt: '2030-02-01T00:00:00Z' }, now)?.toISOString()).toBe(
      '2030-02-01T00:00:00.000Z',
    );
    for (const bad of [
      { expiresIn: '1h', expiresAt: '2030-02-01T00:00:00Z' },
      { expiresAt: '2029-12-31T00:00:00Z' },
      { expiresAt: 'tomorrow' },
      { expiresIn: -5 },
      { expiresIn: '11000d' },
    ]) {
      expect(() => resolveExpiry(bad, now)).toThrow(TokenLifetimeError);
    }
  });

  it('should refuse expired and revoked tokens of the file and of the database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'allerac-token-expiry-'));
    const store = await createStore(await openPgliteDatabase(undefined));
    try {
      const verifier = new TokenVerifier(dir, store.tokens);
      const live = issueAdminToken(dir, 'live', { expiresAt: new Date(Date.now() + 3600_000) });
      const expired = issueAdminToken(dir, 'old', { expiresAt: new Date(Date.now() + 3600_000) });
      // Age the second token in the file, as time would.
      const entries = readTokenFile(tokenFilePath(dir));
      const old = entries.find((e) => e.name === 'old');
      if (old !== undefined) old.expiresAt = new Date(Date.now() - 1000).toISOString();
      writeFileSync(tokenFilePath(dir), JSON.stringify(entries));
      expect(await verifier.verify(live)).toMatchObject({ name: 'live', role: 'admin' });
      expect(await verifier.verify(expired)).toBeUndefined();

      await store.tokens.insert({ id: 'a', name: 'db-live', hash: hashToken('alr_a'), role: 'member' });
      await store.tokens.insert({
        id: 'b',
        name: 'db-expired',
        hash: hashToken('alr_b'),
        role: 'member',
        expiresAt: new Date(Date.now() - 1000),
      });
      expect(await verifier.verify('alr_a')).toMatchObject({ name: 'db-live', role: 'member' });
      expect(await verifier.verify('alr_b')).toBeUndefined();
      expect(await store.tokens.revoke('a')).toBe(true);
      expect(await verifier.verify('alr_a')).toBeUndefined();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tokens of a running node: API and CLI', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'allerac-tokens-'));
  let node: RunningNode | undefined;
  let admin: string;
  const call = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${node?.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  // A route only a token can open: /allerac/v1/* refuses loopback callers without one.
  const works = async (token: string) => (await call(token, 'GET', '/allerac/v1/me')).status === 200;

  beforeAll(async () => {
    const config = resolveStartConfig(
      {
        name: 'alice',
        dataDir,
        httpPort: '0',
        httpHost: '127.0.0.1',
        p2pPort: '0',
        ollamaUrl: 'http://127.0.0.1:9',
        logLevel: 'silent',
        p2pHost: '127.0.0.1',
        mdns: 'off',
      },
      {},
    );
    node = await startNode(config, { logger: pino({ level: 'silent' }) });
    admin = issueAdminToken(dataDir, 'test');
  }, 60_000);

  afterAll(async () => {
    await node?.close(1_000);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should issue API tokens that expire, and revoke them', async () => {
    const created = await call(admin, 'POST', '/allerac/v1/tokens', {
      name: 'laptop',
      role: 'member',
      expiresIn: '30d',
    });
    expect(created.status).toBe(201);
    const laptop = (await created.json()) as { id: string; token: string; expiresAt: string };
    expect(Date.parse(laptop.expiresAt) - Date.now()).toBeGreaterThan(29 * 24 * 3600_000);
    expect(await works(laptop.token)).toBe(true);

    for (const body of [
      { name: 'x', expiresIn: 'soon' },
      { name: 'x', expiresAt: '2001-01-01T00:00:00Z' },
      { name: 'x', expiresIn: '1d', expiresAt: '2099-01-01T00:00:00Z' },
    ]) {
      expect((await call(admin, 'POST', '/allerac/v1/tokens', body)).status).toBe(400);
    }

    // Time passes: the token's expiry is now behind it.
    await node?.store.db.query(
      "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1",
      [laptop.id],
    );
    expect(await works(laptop.token)).toBe(false);
    const list = (await (await call(admin, 'GET', '/allerac/v1/tokens')).json()) as {
      tokens: Array<{ id: string; source: string; state: string; name: string }>;
    };
    expect(list.tokens.find((t) => t.id === laptop.id)).toMatchObject({ source: 'api', state: 'expired' });
    // The CLI's admin tokens are listed too.
    expect(list.tokens.find((t) => t.name === 'test')).toMatchObject({ source: 'cli', state: 'live' });

    const phone = (await (await call(admin, 'POST', '/allerac/v1/tokens', { name: 'phone' })).json()) as {
      id: string;
      token: string;
    };
    expect(await works(phone.token)).toBe(true);
    expect((await call(admin, 'DELETE', `/allerac/v1/tokens/${phone.id}`)).status).toBe(204);
    expect(await works(phone.token)).toBe(false);
    expect((await call(admin, 'DELETE', `/allerac/v1/tokens/${phone.id}`)).status).toBe(404);
  });

  it('should revoke a CLI token through the API', async () => {
    const cli = issueAdminToken(dataDir, 'script');
    expect(await works(cli)).toBe(true);
    const list = (await (await call(admin, 'GET', '/allerac/v1/tokens')).json()) as {
      tokens: Array<{ id: string; name: string }>;
    };
    const id = list.tokens.find((t) => t.name === 'script')?.id ?? '';
    expect((await call(admin, 'DELETE', `/allerac/v1/tokens/${id}`)).status).toBe(204);
    expect(await works(cli)).toBe(false);
  });

  it('should issue with --expires, list and revoke from the command line', async () => {
    const issued = await allerac('token', '--data-dir', dataDir, '--name', 'nas', '--expires', '30d');
    expect(issued.code).toBe(0);
    const token = issued.stdout.trim();
    expect(token).toMatch(/^alr_/);
    expect(await works(token)).toBe(true);
    expect((await allerac('token', '--data-dir', dataDir, '--expires', 'forever')).code).not.toBe(0);

    const api = (await (await call(admin, 'POST', '/allerac/v1/tokens', { name: 'tv' })).json()) as {
      id: string;
      token: string;
    };
    const listed = await allerac('token', 'list', '--data-dir', dataDir, '--json');
    expect(listed.stderr).toBe('');
    const tokens = JSON.parse(listed.stdout) as Array<{
      id: string;
      name: string;
      source: string;
      expiresAt: string | null;
    }>;
    const nas = tokens.find((t) => t.name === 'nas');
    expect(nas).toMatchObject({ source: 'cli' });
    expect(Date.parse(nas?.expiresAt ?? '') - Date.now()).toBeGreaterThan(29 * 24 * 3600_000);
    expect(tokens.find((t) => t.id === api.id)).toMatchObject({ source: 'api' });

    expect((await allerac('token', 'revoke', nas?.id ?? '', '--data-dir', dataDir)).code).toBe(0);
    expect(await works(token)).toBe(false);
    expect((await allerac('token', 'revoke', api.id, '--data-dir', dataDir)).code).toBe(0);
    expect(await works(api.token)).toBe(false);
    const again = await allerac('token', 'revoke', api.id, '--data-dir', dataDir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no live token/);
    expect(readFileSync(tokenFilePath(dataDir), 'utf8')).not.toContain(token);
  }, 120_000);

  it('should list and revoke the database tokens of a stopped node', async () => {
    const kept = (await (await call(admin, 'POST', '/allerac/v1/tokens', { name: 'offline' })).json()) as {
      id: string;
    };
    await node?.close(1_000);
    node = undefined;
    const listed = await allerac('token', 'list', '--data-dir', dataDir);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(kept.id);
    expect((await allerac('token', 'revoke', kept.id, '--data-dir', dataDir)).code).toBe(0);
    const after = await allerac('token', 'list', '--data-dir', dataDir, '--json');
    const tokens = JSON.parse(after.stdout) as Array<{ id: string; state: string }>;
    expect(tokens.find((t) => t.id === kept.id)?.state).toBe('revoked');
  }, 120_000);
});
