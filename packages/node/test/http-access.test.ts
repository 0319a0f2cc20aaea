import { Socket } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken, TokenVerifier } from '../src/auth/api-tokens.js';
import { ACCESS_POLICIES, declaredRoutes, registerRouteAccess } from '../src/http/route-access.js';
import { TokenRepository } from '../src/store/token-repository.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

/** A LAN host: not loopback, inside the benchmarking range the tests use. */
const LAN_HOST = '198.18.0.9';

/** A concrete path for a route pattern (`:id` → `x`, `*` → `x`). */
const concrete = (pattern: string) => pattern.replace(/:[^/]+/g, 'x').replace(/\*/g, 'x');

/** Spellings of one path that a router might decode to the same route. */
function spellings(path: string): string[] {
  const encodeAt = (i: number) =>
    `${path.slice(0, i)}%${path.charCodeAt(i).toString(16)}${path.slice(i + 1)}`;
  const letters = [...path].map((c, i) => (/[a-z]/i.test(c) ? i : -1)).filter((i) => i >= 0);
  const everyLetter = [...path]
    .map((c) => (/[a-z]/i.test(c) ? `%${c.charCodeAt(0).toString(16).toUpperCase()}` : c))
    .join('');
  return [
    path,
    encodeAt(letters[0]!),
    encodeAt(letters.at(-1)!),
    everyLetter,
    `${path}?`,
    `${path}/`,
    `/${path}`,
    path.replace('/', '/./'),
    path.replace(/^\/([^/]+)/, '/$1/../$1'),
    `${path};x`,
    `${path}%00`,
    path.replace(/^\/a/, '/A'),
  ];
}

async function rawRequest(port: number, head: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let data = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(data);
      if (match) {
        resolve(Number(match[1]));
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.connect(port, '127.0.0.1', () => socket.write(head));
  });
}

describe('access is decided by the matched route', () => {
  let t: TestNode;
  let admin: string;

  beforeAll(async () => {
    t = await startTestNode({ name: 'den' });
    admin = issueAdminToken(t.dataDir);
  });
  afterAll(async () => t?.teardown());

  it('should declare a known access policy on every route', () => {
    const routes = declaredRoutes(t.node.http);
    expect(routes.length).toBeGreaterThan(50);
    for (const route of routes)
      expect(ACCESS_POLICIES, `${route.method} ${route.url}`).toContain(route.access);
    const policy = (method: string, url: string) =>
      routes.find((r) => r.method === method && r.url === url)?.access;
    expect(policy('GET', '/health')).toBe('public');
    expect(policy('POST', '/api/chat')).toBe('local-or-token');
    expect(policy('GET', '/allerac/v1/memories')).toBe('signed-in');
    expect(policy('DELETE', '/allerac/v1/peers/:id')).toBe('admin');
  });

  it('should refuse to start a server with a route that declares no policy', async () => {
    const app = Fastify();
    registerRouteAccess(app, new TokenVerifier(t.dataDir, new TokenRepository(t.node.store.db)), []);
    app.get('/forgotten', async () => 'open by accident');
    await expect(app.ready()).rejects.toThrow(/declares no access policy/);
  });

  it('should ask a LAN host for credentials under every spelling of every protected route', async () => {
    const protectedRoutes = declaredRoutes(t.node.http).filter(
      (r) => r.access !== 'public' && r.method !== 'HEAD',
    );
    const leaks: string[] = [];
    for (const route of protectedRoutes) {
      for (const url of spellings(concrete(route.url))) {
        const response = await t.node.http.inject({
          method: route.method as 'GET',
          url,
          remoteAddress: LAN_HOST,
          headers: { 'content-type': 'application/json' },
          payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}',
        });
        if (response.statusCode < 400 || response.statusCode >= 500) {
          leaks.push(`${route.method} ${url} → ${response.statusCode}`);
        }
      }
    }
    expect(leaks).toEqual([]);
  });

  it('should ask for credentials under percent-encoded and absolute-form targets on a real socket', async () => {
    const address = t.node.http.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    for (const target of [
      '/%61llerac/v1/memories',
      '/allerac/%761/memories',
      '/allerac/v1/%6Demories',
      `http://127.0.0.1:${port}/allerac/v1/memories`,
      'http://x/allerac/v1/memories',
      `http://127.0.0.1:${port}/%61llerac/v1/settings`,
    ]) {
      const status = await rawRequest(
        port,
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
      );
      expect([400, 401, 404], target).toContain(status);
    }
    // The same request with the admin token is served, so the refusals above are about credentials.
    const allowed = await rawRequest(
      port,
      `GET /%61llerac/v1/memories HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${admin}\r\nConnection: close\r\n\r\n`,
    );
    expect(allowed).toBe(200);
  });

  it('should let a LAN host reach only /health, and a caller on this machine use the Ollama API', async () => {
    expect((await t.node.http.inject({ url: '/health', remoteAddress: LAN_HOST })).statusCode).toBe(200);
    expect((await t.node.http.inject({ url: '/metrics', remoteAddress: LAN_HOST })).statusCode).toBe(401);
    expect((await t.node.http.inject({ url: '/api/tags', remoteAddress: LAN_HOST })).statusCode).toBe(401);
    expect((await t.node.http.inject({ url: '/%61pi/tags', remoteAddress: LAN_HOST })).statusCode).toBe(401);
    expect((await t.node.http.inject({ url: '/%761/models', remoteAddress: LAN_HOST })).statusCode).toBe(401);
    expect((await t.node.http.inject({ url: '/api/tags' })).statusCode).toBe(200);
    // On this machine the management API still needs a credential.
    expect((await t.node.http.inject({ url: '/allerac/v1/memories' })).statusCode).toBe(401);
    const withToken = await t.node.http.inject({
      url: '/api/tags',
      remoteAddress: LAN_HOST,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(withToken.statusCode).toBe(200);
  });
});

describe('browsers: Host, Origin, CORS and content types', () => {
  let t: TestNode;

  beforeAll(async () => {
    t = await startTestNode({ name: 'hall' });
  });
  afterAll(async () => t?.teardown());

  it('should refuse a Host header that does not name this machine (DNS rebinding)', async () => {
    for (const host of ['evil.example', 'evil.example:8080', 'attacker.com.', '203.0.113.7']) {
      const response = await t.node.http.inject({ url: '/api/tags', headers: { host } });
      expect(response.statusCode, host).toBe(403);
      expect(response.json().error).toMatch(/not a name of this node/);
    }
    for (const host of [
      'localhost:8080',
      '127.0.0.1',
      '[::1]:8080',
      'kitchen.local',
      'nas.lan',
      '192.168.1.20:8080',
      'box.home.arpa',
    ]) {
      const response = await t.node.http.inject({ url: '/api/tags', headers: { host } });
      expect(response.statusCode, host).toBe(200);
    }
  });

  it('should answer CORS for the Ollama API the way Ollama does, and never for other origins', async () => {
    const allowed = await t.node.http.inject({
      url: '/api/tags',
      headers: { origin: 'http://localhost:3000' },
    });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('http://localhost:3000');

    const preflight = await t.node.http.inject({
      method: 'OPTIONS',
      url: '/v1/chat/completions',
      headers: {
        origin: 'vscode-webview://abc',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('vscode-webview://abc');
    expect(String(preflight.headers['access-control-allow-headers'])).toMatch(/Authorization/);
    expect(String(preflight.headers['access-control-allow-methods'])).toMatch(/POST/);

    for (const origin of ['https://evil.example', 'null', 'http://localhost.evil.example']) {
      const refused = await t.node.http.inject({
        method: 'POST',
        url: '/api/chat',
        headers: { origin, 'content-type': 'text/plain' },
        payload: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(refused.statusCode, origin).toBe(403);
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('should accept only its own origin on the UI routes, even from an origin Ollama allows', async () => {
    const setup = (headers: Record<string, string>) =>
      t.node.http.inject({
        method: 'POST',
        url: '/auth/setup',
        headers: { 'content-type': 'application/json', ...headers },
        payload: { username: 'mallory', password: 'long enough password' },
      });
    expect((await setup({ origin: 'http://localhost:5173' })).statusCode).toBe(403);
    expect((await setup({ origin: 'https://evil.example' })).statusCode).toBe(403);
    expect((await t.node.http.inject({ url: '/auth/state' })).json().setup.adminCreated).toBe(false);
  });

  it('should refuse a cross-site "simple" text/plain claim of a fresh node', async () => {
    const response = await t.node.http.inject({
      method: 'POST',
      url: '/auth/setup',
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify({ username: 'mallory', password: 'long enough password' }),
    });
    expect(response.statusCode).toBe(415);
    const plantedMemory = await t.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/memories',
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify({ text: 'planted' }),
    });
    expect(plantedMemory.statusCode).toBe(415);
    expect((await t.node.http.inject({ url: '/auth/state' })).json().setup.adminCreated).toBe(false);
  });

  it('should let another machine claim a fresh node only with the one-time setup code', async () => {
    const state = (await t.node.http.inject({ url: '/auth/state', remoteAddress: LAN_HOST })).json();
    expect(state.setup).toMatchObject({ adminCreated: false, codeRequired: true });
    expect(state.setup.codeFile).toMatch(/setup-code$/);
    const claim = (setupCode?: string) =>
      t.node.http.inject({
        method: 'POST',
        url: '/auth/setup',
        remoteAddress: LAN_HOST,
        payload: { username: 'ana', password: 'correct horse battery', ...(setupCode ? { setupCode } : {}) },
      });
    const without = await claim();
    expect(without.statusCode).toBe(403);
    expect(without.json().error).toMatch(/setup code/);
    expect((await claim('AAAA-BBBB-CCCC-DDDD')).statusCode).toBe(403);
    const { readFileSync, existsSync } = await import('node:fs');
    const code = readFileSync(state.setup.codeFile, 'utf8').trim();
    const claimed = await claim(code.toLowerCase());
    expect(claimed.statusCode).toBe(201);
    expect(existsSync(state.setup.codeFile)).toBe(false);
    expect((await claim(code)).statusCode).toBe(403);
  });
});
