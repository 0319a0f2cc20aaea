/**
 * Device keys: clients that cannot send a bearer token put a key in the base URL
 * (`http://node:8080/k/<key>`). Requests come "from the LAN" through `inject` with a non-loopback
 * remote address, so a key that were ignored would be refused rather than pass as loopback; the
 * real network is simulations/lan/test/device-keys.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type OllamaSim, startOllamaSim } from '@allerac/ollama-sim';
import Fastify, { type FastifyInstance } from 'fastify';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken, TokenVerifier } from '../src/auth/api-tokens.js';
import { deviceBaseUrls, nodeOrigin } from '../src/auth/device-base-url.js';
import { redactSecrets, rewriteDeviceUrl, splitDeviceUrl } from '../src/auth/device-url.js';
import { TokenRegistry } from '../src/auth/token-registry.js';
import { generateDeviceKey } from '../src/auth/token-secret.js';
import { resolveStartConfig } from '../src/config.js';
import { type AlleracNode, createNode } from '../src/daemon.js';
import { registerRouteAccess } from '../src/http/route-access.js';
import { openPgliteDatabase } from '../src/store/pglite-database.js';
import { createStore, type Store } from '../src/store/store.js';

const MODEL = 'llama3.2:3b';
/** A host of the home network (the benchmarking range, as every test host). */
const LAN_HOST = '198.18.0.7';

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

/** A fetch that sends each request through `inject` as if from `remoteAddress`. */
function fetchFrom(app: FastifyInstance, remoteAddress: string): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const headers: Record<string, string> = { host: url.host };
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const body = request.body === null ? undefined : Buffer.from(await request.arrayBuffer());
    const response = await app.inject({
      method: request.method as 'GET',
      url: `${url.pathname}${url.search}`,
      headers,
      remoteAddress,
      ...(body === undefined ? {} : { payload: body }),
    });
    const out = new Headers();
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) out.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    }
    const empty = response.statusCode === 204 || request.method === 'HEAD';
    return new Response(empty ? null : response.rawPayload, { status: response.statusCode, headers: out });
  };
}

/** Sends one raw HTTP/1.1 request and resolves with the whole answer. */
function rawRequest(url: URL, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(request));
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
    });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

describe('device key URLs', () => {
  const key = generateDeviceKey();

  it('should strip a valid /k/<key> prefix above /, /api/* and /v1/* only', () => {
    expect(splitDeviceUrl(`/k/${key}`)).toEqual({ key, url: '/' });
    expect(splitDeviceUrl(`/k/${key}/`)).toEqual({ key, url: '/' });
    expect(splitDeviceUrl(`/k/${key}?x=1`)).toEqual({ key, url: '/?x=1' });
    expect(splitDeviceUrl(`/k/${key}/api/chat`)).toEqual({ key, url: '/api/chat' });
    expect(splitDeviceUrl(`/k/${key}/v1/chat/completions?a=b`)).toEqual({
      key,
      url: '/v1/chat/completions?a=b',
    });
    for (const url of [
      `/k/${key}/allerac/v1/tokens`,
      `/k/${key}/auth/state`,
      `/k/${key}/health`,
      `/k/${key}/metrics`,
      `/k/${key}/%61pi/tags`,
      `/k/${key}//api/tags`,
      `/k/${key}/api`,
      `/k/${key}%2fapi/tags`,
      `/K/${key}/api/tags`,
      `/%6b/${key}/api/tags`,
      `/k/${key.slice(0, -1)}/api/tags`,
      `/k/${key}x/api/tags`,
      `/k/%61${key.slice(1)}/api/tags`,
      `/k/alr_${key.slice(5)}/api/tags`,
      '/api/tags',
    ]) {
      expect(splitDeviceUrl(url), url).toBeUndefined();
    }
  });

  it('should leave no key in the URL Fastify goes on with, nor in originalUrl', () => {
    for (const url of [
      `/k/${key}/api/chat`,
      `/k/${key}/allerac/v1/tokens`,
      `/K/${key}/api/tags`,
      `/%6B/${key}/api/tags`,
      `http://x/k/${key}/api/tags`,
      `/k/${key}%2fapi%2ftags`,
    ]) {
      const raw = { url } as Parameters<typeof rewriteDeviceUrl>[0];
      const next = rewriteDeviceUrl(raw);
      expect(next, url).not.toContain(key);
      expect((raw as { originalUrl?: string }).originalUrl ?? '', url).not.toContain(key);
    }
    expect(redactSecrets(`//k/${key}/api/tags`)).not.toContain(key);
    expect(redactSecrets(`/x/${key}`)).not.toContain(key);
  });

  it('should hand out the address other machines reach the node at', () => {
    const interfaces = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [{ address: '198.18.0.5', family: 'IPv4', internal: false }],
      wlan0: [{ address: '192.168.1.20', family: 'IPv4', internal: false }],
    } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;
    const wildcard = { address: '0.0.0.0', port: 8080 };
    expect(nodeOrigin({ host: '192.168.1.20:8080', listen: wildcard, interfaces })).toEqual({
      origin: 'http://192.168.1.20:8080',
      reachableFromLan: true,
    });
    expect(nodeOrigin({ host: 'kitchen.local:8080', listen: wildcard, interfaces }).origin).toBe(
      'http://kitchen.local:8080',
    );
    // Loopback is useless to another machine: the private LAN address instead.
    expect(nodeOrigin({ host: '127.0.0.1:8080', listen: wildcard, interfaces })).toEqual({
      origin: 'http://192.168.1.20:8080',
      reachableFromLan: true,
    });
    expect(
      nodeOrigin({ host: 'localhost:8080', listen: { address: '198.18.0.5', port: 8080 }, interfaces }),
    ).toEqual({ origin: 'http://198.18.0.5:8080', reachableFromLan: true });
    expect(
      nodeOrigin({ host: 'localhost:8080', listen: { address: '127.0.0.1', port: 8080 }, interfaces }),
    ).toEqual({ origin: 'http://127.0.0.1:8080', reachableFromLan: false });
    expect(deviceBaseUrls('http://192.168.1.20:8080', key)).toEqual({
      ollama: `http://192.168.1.20:8080/k/${key}`,
      openai: `http://192.168.1.20:8080/k/${key}/v1`,
    });
  });
});

describe('device keys on a node', () => {
  let sim: OllamaSim;
  let node: AlleracNode;
  let dataDir: string;
  let admin: string;
  let origin: string;
  const logs: string[] = [];

  const call = (path: string, init: { method?: string; body?: unknown; from?: string } = {}) =>
    node.http.inject({
      method: (init.method ?? (init.body === undefined ? 'GET' : 'POST')) as 'GET',
      url: path,
      remoteAddress: init.from ?? LAN_HOST,
      headers: { 'content-type': 'application/json', host: new URL(origin).host },
      ...(init.body === undefined ? {} : { payload: JSON.stringify(init.body) }),
    });
  const issue = async (body: Record<string, unknown>) => {
    const response = await node.http.inject({
      method: 'POST',
      url: '/allerac/v1/tokens',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      payload: JSON.stringify(body),
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json() as {
      id: string;
      token: string;
      device: boolean;
      role: string;
      baseUrls?: { ollama: string; openai: string };
      reachableFromLan?: boolean;
    };
  };

  beforeAll(async () => {
    sim = await startOllamaSim({ profile: 'fast', models: [MODEL] });
    dataDir = mkdtempSync(join(tmpdir(), 'allerac-devices-'));
    // Every line the node logs, at the most verbose level, to look for keys in.
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    });
    const config = resolveStartConfig(
      {
        name: 'den',
        dataDir,
        httpPort: '0',
        httpHost: '127.0.0.1',
        p2pPort: '0',
        ollamaUrl: sim.url,
        logLevel: 'trace',
        p2pHost: '127.0.0.1',
        mdns: 'off',
      },
      {},
    );
    node = await createNode(config, { logger: pino({ level: 'trace' }, sink) });
    await node.start();
    origin = node.url;
    admin = issueAdminToken(dataDir, 'test');
  }, 120_000);

  afterAll(async () => {
    await node?.close(1_000);
    await sim?.close();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it('should issue a member device key with its base URLs', async () => {
    const issued = await issue({ name: 'living-room', device: true });
    expect(issued).toMatchObject({ device: true, role: 'member' });
    expect(issued.token).toMatch(/^alrk_[A-Za-z0-9_-]{43}$/);
    // The node listens on loopback here: the URLs say so, and so does the flag.
    expect(issued.baseUrls).toEqual({
      ollama: `${origin}/k/${issued.token}`,
      openai: `${origin}/k/${issued.token}/v1`,
    });
    expect(issued.reachableFromLan).toBe(false);
    const plain = await issue({ name: 'script' });
    expect(plain.device).toBe(false);
    expect(plain.baseUrls).toBeUndefined();
    const list = (
      await node.http.inject({
        url: '/allerac/v1/tokens',
        headers: { authorization: `Bearer ${admin}` },
      })
    ).json() as { tokens: Array<{ id: string; device: boolean }> };
    expect(list.tokens.find((t) => t.id === issued.id)?.device).toBe(true);
    expect(list.tokens.find((t) => t.id === plain.id)?.device).toBe(false);
  });

  it('should let the ollama and openai clients chat from the LAN with the key in the base URL', async () => {
    const { token, baseUrls } = await issue({ name: 'laptop', device: true });
    const lanFetch = fetchFrom(node.http, LAN_HOST);
    const ollama = new Ollama({ host: baseUrls?.ollama ?? '', fetch: lanFetch });
    expect((await ollama.list()).models.map((m) => m.name)).toContain(MODEL);
    const reply = await ollama.chat({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });
    expect(reply.message.content.length).toBeGreaterThan(0);
    let streamed = '';
    for await (const part of await ollama.chat({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    }))
      streamed += part.message.content;
    expect(streamed).toBe(reply.message.content);

    const openai = new OpenAI({ baseURL: baseUrls?.openai ?? '', apiKey: 'unused', fetch: lanFetch });
    const completion = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0]?.message.content).toBe(reply.message.content);
    expect((await openai.models.list()).data.map((m) => m.id)).toContain(MODEL);

    // Ollama clients probe the root, with HEAD (the CLI's heartbeat) or GET.
    expect((await call(`/k/${token}`)).body).toBe('Ollama is running');
    expect((await call(`/k/${token}/`, { method: 'HEAD' })).statusCode).toBe(200);

    // The same clients without the key are refused: the key is what let them in.
    const bare = new Ollama({ host: origin, fetch: lanFetch });
    await expect(bare.list()).rejects.toMatchObject({ status_code: 401 });
  });

  it('should refuse revoked, expired and unknown keys, from the LAN and from this machine', async () => {
    const revoked = await issue({ name: 'old-tv', device: true });
    const expired = await issue({ name: 'guest', device: true, expiresIn: '1h' });
    expect((await call(`/k/${revoked.token}/api/tags`)).statusCode).toBe(200);
    await node.http.inject({
      method: 'DELETE',
      url: `/allerac/v1/tokens/${revoked.id}`,
      headers: { authorization: `Bearer ${admin}` },
    });
    await node.store.db.query(
      "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1",
      [expired.id],
    );
    for (const key of [revoked.token, expired.token, generateDeviceKey()]) {
      for (const from of [LAN_HOST, '127.0.0.1']) {
        for (const path of ['/api/tags', '/v1/models', '', '/api/chat']) {
          const method = path === '/api/chat' ? 'POST' : 'GET';
          const body = method === 'POST' ? { model: MODEL, messages: [] } : undefined;
          const response = await call(`/k/${key}${path}`, { method, body, from });
          expect(response.statusCode, `${from} ${path}`).toBe(401);
          expect(response.body).toMatch(/device key/);
        }
      }
    }
  });

  it('should serve nothing but the client APIs under a key, and no trick spelling of one', async () => {
    const member = await issue({ name: 'phone', device: true });
    const boss = await issue({ name: 'desk', device: true, role: 'admin' });
    const token = await issue({ name: 'bearer', role: 'admin' });
    for (const key of [member.token, boss.token]) {
      for (const path of [
        '/allerac/v1/tokens',
        '/allerac/v1/me',
        '/allerac/v1/memories',
        '/auth/state',
        '/health',
        '/metrics',
        '/chat',
        '/%61llerac/v1/tokens',
        '/api/../allerac/v1/tokens',
        '/api/%2e%2e/allerac/v1/tokens',
      ]) {
        const response = await call(`/k/${key}${path}`);
        expect(response.statusCode, path).toBe(404);
        expect(response.body).not.toContain(key);
      }
    }
    for (const url of [
      `/K/${member.token}/api/tags`,
      `/%6b/${member.token}/api/tags`,
      `/k/%61${member.token.slice(1)}/api/tags`,
      `/k/${member.token}%2fapi%2ftags`,
      `/k/${member.token}//api/tags`,
      `/k/${member.token}/%61pi/tags`,
      `//k/${member.token}/api/tags`,
      `/k/${token.token}/api/tags`,
    ]) {
      const response = await call(url);
      expect([400, 401, 404], url).toContain(response.statusCode);
      expect(response.body, url).not.toContain(member.token);
    }
    // inject() would turn an absolute-form target into a path; a real socket keeps it as sent.
    for (const target of [
      `http://${new URL(origin).host}/k/${member.token}/api/tags`,
      `http://x/K/${member.token}/api/tags`,
    ]) {
      const answer = await rawRequest(
        new URL(origin),
        `GET ${target} HTTP/1.1\r\nHost: ${new URL(origin).host}\r\nConnection: close\r\n\r\n`,
      );
      expect(answer, target).toMatch(/^HTTP\/1\.1 404/);
      expect(answer, target).not.toContain(member.token);
    }
    // A device key is not a bearer token, so it never opens the management API.
    const asBearer = await node.http.inject({
      url: '/allerac/v1/me',
      remoteAddress: LAN_HOST,
      headers: { authorization: `Bearer ${boss.token}` },
    });
    expect(asBearer.statusCode).toBe(401);
    const onApi = await node.http.inject({
      url: '/api/tags',
      remoteAddress: LAN_HOST,
      headers: { authorization: `Bearer ${member.token}` },
    });
    expect(onApi.statusCode).toBe(401);
  });

  it('should write no key to the logs, the metrics or an echoed error', async () => {
    const { token } = await issue({ name: 'speaker', device: true });
    logs.length = 0;
    const responses = [
      await call(`/k/${token}/api/tags`),
      await call(`/k/${token}/api/chat`, {
        body: { model: MODEL, messages: [{ role: 'user', content: 'x' }] },
      }),
      await call(`/k/${token}/api/chat`, { body: { model: 'missing:1b', messages: [] } }),
      await node.http.inject({
        method: 'POST',
        url: `/k/${token}/api/chat`,
        remoteAddress: LAN_HOST,
        payload: '{',
      }),
      await call(`/k/${token}/api/%zz`),
      await call(`/k/${token}/api/nothing-here`),
      await call(`/k/${token}/allerac/v1/tokens`),
      await call(`/K/${token}/api/tags`),
      await call(`/k/${token}/allerac/%zz`),
      await call(`/k/${token}/v1/chat/completions`, { body: { model: MODEL } }),
    ];
    for (const response of responses) expect(response.body).not.toContain(token);
    const notFound = responses[6]?.json() as { error: string };
    expect(notFound.error).toContain('/k/<key>/allerac/v1/tokens');
    const metrics = await call('/metrics', { from: '127.0.0.1' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('/api/tags');
    expect(metrics.body).not.toContain(token);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('')).not.toContain(token);
    expect(logs.join('')).not.toContain(token.slice(5, 20));
  });
});

describe('device keys and route policies', () => {
  let store: Store;
  let app: FastifyInstance;
  let dir: string;
  let registry: TokenRegistry;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'allerac-device-policy-'));
    store = await createStore(await openPgliteDatabase(undefined));
    registry = new TokenRegistry(dir, store.tokens);
    app = Fastify({ rewriteUrl: rewriteDeviceUrl });
    registerRouteAccess(app, new TokenVerifier(dir, store.tokens), []);
    // Model management (pull, delete) declares local-or-admin: a member device may not.
    app.post('/api/pull', { config: { access: 'local-or-admin' } }, async () => ({ status: 'success' }));
    app.get('/api/tags', { config: { access: 'local-or-token' } }, async () => ({ models: [] }));
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should let an admin device manage models and keep a member device to chat', async () => {
    const member = await registry.issue({ name: 'tv', role: 'member', device: true });
    const admin = await registry.issue({ name: 'nas', role: 'admin', device: true });
    const pull = (key: string, remoteAddress: string) =>
      app.inject({ method: 'POST', url: `/k/${key}/api/pull`, remoteAddress, payload: {} });
    expect((await pull(admin.token, LAN_HOST)).statusCode).toBe(200);
    expect((await pull(member.token, LAN_HOST)).statusCode).toBe(403);
    // On this machine too: the key in the URL is what the request is judged by.
    expect((await pull(member.token, '127.0.0.1')).statusCode).toBe(403);
    expect(
      (await app.inject({ url: `/k/${member.token}/api/tags`, remoteAddress: LAN_HOST })).statusCode,
    ).toBe(200);
  });
});

describe('allerac device', () => {
  let sim: OllamaSim;
  let node: AlleracNode;
  let dataDir: string;

  beforeAll(async () => {
    sim = await startOllamaSim({ profile: 'fast', models: [MODEL] });
    dataDir = mkdtempSync(join(tmpdir(), 'allerac-device-cli-'));
    const config = resolveStartConfig(
      {
        name: 'attic',
        dataDir,
        httpPort: '0',
        httpHost: '127.0.0.1',
        p2pPort: '0',
        ollamaUrl: sim.url,
        logLevel: 'silent',
        p2pHost: '127.0.0.1',
        mdns: 'off',
      },
      {},
    );
    node = await createNode(config, { logger: pino({ level: 'silent' }) });
    await node.start();
  }, 120_000);
  afterAll(async () => {
    await node?.close(1_000);
    await sim?.close();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it('should add a device with its base URLs, list it and revoke it', async () => {
    const added = await allerac('device', 'add', 'kitchen-tablet', '--data-dir', dataDir, '--json');
    expect(added.code, added.stderr).toBe(0);
    const issued = JSON.parse(added.stdout) as {
      id: string;
      token: string;
      role: string;
      baseUrls: { ollama: string; openai: string };
    };
    expect(issued.role).toBe('member');
    expect(issued.baseUrls.ollama).toBe(`${node.url}/k/${issued.token}`);
    const tags = await fetch(`${issued.baseUrls.ollama}/api/tags`);
    expect(tags.status).toBe(200);

    const text = await allerac(
      'device',
      'add',
      'nas',
      '--role',
      'admin',
      '--expires',
      '90d',
      '--data-dir',
      dataDir,
    );
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/Ollama clients: http:\/\/127\.0\.0\.1:\d+\/k\/alrk_/);
    expect(text.stdout).toMatch(/--http-host 0\.0\.0\.0/);
    expect((await allerac('device', 'add', 'x', '--expires', 'soon', '--data-dir', dataDir)).code).not.toBe(
      0,
    );

    const listed = await allerac('device', 'list', '--data-dir', dataDir, '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const devices = JSON.parse(listed.stdout) as Array<{ id: string; name: string; device: boolean }>;
    expect(devices.map((d) => d.name).sort()).toEqual(['kitchen-tablet', 'nas']);
    expect(listed.stdout).not.toContain(issued.token);

    expect((await allerac('device', 'revoke', issued.id, '--data-dir', dataDir)).code).toBe(0);
    expect((await fetch(`${issued.baseUrls.ollama}/api/tags`)).status).toBe(401);
  }, 120_000);
});
