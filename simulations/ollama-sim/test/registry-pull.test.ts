/**
 * Pulling from another host's registry into the store on disk, checked against PullModel
 * (server/images.go) and blobDownload (server/download.go): alice serves her store as a registry,
 * bob pulls from her with `insecure` (plain http) through the official client, and a proxy in
 * between drops the Location header or cuts a part off to show Ollama's failures and its resume.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { type OllamaSim, startOllamaSim } from '../src/index.js';
import { post, readNdjson } from './helpers.js';
import { type RegistryProxy, startRegistryProxy } from './registry-proxy.js';

interface Line {
  status?: string;
  digest?: string;
  total?: number;
  completed?: number;
  error?: string;
}

interface ManifestFile {
  config: { digest: string; size: number };
  layers: Array<{ mediaType: string; digest: string; size: number }>;
}

const MODEL_BYTES = 300_000;
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

describe('pull from a registry', () => {
  const closers: Array<() => Promise<void>> = [];
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ollama-sim-pull-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Alice serves llama3.2:3b as a registry; bob starts empty. */
  const setup = async (modelBytes = MODEL_BYTES) => {
    const aliceDir = tempDir();
    const bobDir = tempDir();
    const alice = await startOllamaSim({
      profile: 'fast',
      models: ['llama3.2:3b'],
      storeDir: aliceDir,
      modelBytes,
      serveRegistry: true,
    });
    closers.push(() => alice.close());
    const bob = await startOllamaSim({ profile: 'fast', models: [], storeDir: bobDir });
    closers.push(() => bob.close());
    const manifestPath = join(aliceDir, 'manifests', 'registry.ollama.ai', 'library', 'llama3.2', '3b');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ManifestFile;
    return { alice, bob, aliceDir, bobDir, manifest, manifestBytes: readFileSync(manifestPath, 'utf8') };
  };
  const withProxy = async (alice: OllamaSim): Promise<RegistryProxy> => {
    const proxy = await startRegistryProxy(alice.url);
    closers.push(() => proxy.close());
    return proxy;
  };
  const pull = async (bob: OllamaSim, model: string, insecure = true) =>
    (await readNdjson(await post(`${bob.url}/api/pull`, { model, insecure }))) as Line[];
  const tagNames = async (sim: OllamaSim) =>
    ((await (await fetch(`${sim.url}/api/tags`)).json()) as { models: Array<{ name: string }> }).models.map(
      (m) => m.name,
    );

  it("should pull another sim's model over insecure http, byte for byte", async () => {
    const { alice, bob, bobDir, manifest, manifestBytes } = await setup();
    const host = new URL(alice.url).host;
    const name = `${host}/library/llama3.2:3b`;
    const ollama = new Ollama({ host: bob.url });
    const lines: Line[] = [];
    for await (const line of await ollama.pull({ model: name, insecure: true, stream: true }))
      lines.push(line);
    expect(lines[0]).toEqual({ status: 'pulling manifest' });
    expect(lines.slice(-3).map((line) => line.status)).toEqual([
      'verifying sha256 digest',
      'writing manifest',
      'success',
    ]);
    for (const layer of [...manifest.layers, manifest.config]) {
      const mine = lines.filter((line) => line.digest === layer.digest);
      expect(mine.every((line) => line.status === `pulling ${layer.digest.slice(7, 19)}`)).toBe(true);
      expect(mine.at(-1)).toMatchObject({ total: layer.size, completed: layer.size });
      const blob = readFileSync(join(bobDir, 'blobs', `sha256-${layer.digest.slice(7)}`));
      expect(`sha256:${sha256(blob)}`).toBe(layer.digest);
    }
    expect(readFileSync(join(bobDir, 'manifests', host, 'library', 'llama3.2', '3b'), 'utf8')).toBe(
      manifestBytes,
    );
    const listed = await ollama.list();
    expect(listed.models.map((m) => [m.name, m.digest])).toEqual([[name, sha256(manifestBytes)]]);
    const reply = await ollama.chat({ model: name, messages: [{ role: 'user', content: 'hi' }] });
    expect(reply.message.content.length).toBeGreaterThan(0);
    // No partial files are left behind.
    expect(readdirSync(join(bobDir, 'blobs')).filter((file) => file.includes('partial'))).toEqual([]);
  });

  it('should answer a missing manifest as Ollama does', async () => {
    const { alice, bob } = await setup();
    const lines = await pull(bob, `${new URL(alice.url).host}/library/nothing:here`);
    expect(lines.at(-1)).toEqual({ error: 'pull model manifest: file does not exist' });
    expect(await tagNames(bob)).toEqual([]);
  });

  it('should refuse a corrupted blob with Ollama’s digest mismatch and remove it', async () => {
    const { alice, aliceDir, bob, bobDir, manifest } = await setup();
    const weights = manifest.layers[0]!;
    const path = join(aliceDir, 'blobs', `sha256-${weights.digest.slice(7)}`);
    const bytes = readFileSync(path);
    bytes[1000] = bytes[1000]! ^ 0xff;
    writeFileSync(path, bytes);
    const lines = await pull(bob, `${new URL(alice.url).host}/library/llama3.2:3b`);
    expect(lines.at(-2)).toEqual({ status: 'verifying sha256 digest' });
    expect(lines.at(-1)).toEqual({
      error: `digest mismatch, file must be downloaded again: want ${weights.digest}, got sha256:${sha256(bytes)}`,
    });
    expect(existsSync(join(bobDir, 'blobs', `sha256-${weights.digest.slice(7)}`))).toBe(false);
    expect(await tagNames(bob)).toEqual([]);
  });

  it('should fail like Ollama when the blob answer has no Location header', async () => {
    const { alice, bob } = await setup();
    const proxy = await withProxy(alice);
    proxy.faults.stripLocation = true;
    const lines = await pull(bob, `${proxy.host}/library/llama3.2:3b`);
    expect(lines.at(-1)).toEqual({ error: 'http: no Location header in response' });
    expect(await tagNames(bob)).toEqual([]);
  });

  it('should fail without insecure, as the registry is plain http', async () => {
    const { alice, bob } = await setup();
    const lines = await pull(bob, `${new URL(alice.url).host}/library/llama3.2:3b`, false);
    expect(lines.at(-1)).toEqual({
      error: `pull model manifest: Get "https://${new URL(alice.url).host}/v2/library/llama3.2/manifests/3b": http: server gave HTTP response to HTTPS client`,
    });
    expect(await tagNames(bob)).toEqual([]);
  });

  it('should list nothing after a cut-off pull, then resume the part with Range', async () => {
    const { alice, bob, bobDir, manifest } = await setup();
    const proxy = await withProxy(alice);
    const weights = manifest.layers[0]!;
    const blobPath = join(bobDir, 'blobs', `sha256-${weights.digest.slice(7)}`);
    proxy.faults.cutNextRangeAfter = 120_000;
    const name = `${proxy.host}/library/llama3.2:3b`;
    const cut = await pull(bob, name);
    expect(cut.at(-1)).toEqual({ error: 'unexpected EOF' });
    expect(await tagNames(bob)).toEqual([]);
    expect(existsSync(blobPath)).toBe(false);
    const part = JSON.parse(readFileSync(`${blobPath}-partial-0`, 'utf8')) as { Completed: number };
    expect(part.Completed).toBeGreaterThan(0);
    expect(part.Completed).toBeLessThanOrEqual(120_000);

    proxy.seen.length = 0;
    const resumed = await pull(bob, name);
    expect(resumed.at(-1)).toEqual({ status: 'success' });
    const weightsPath = `/v2/library/llama3.2/blobs/${weights.digest}`;
    // The kept part needs no HEAD: only the rest of it is asked for.
    expect(proxy.seen).not.toContain(`HEAD ${weightsPath}`);
    expect(proxy.seen).toContain(`GET ${weightsPath} bytes=${part.Completed}-${weights.size - 1}`);
    expect(resumed.find((line) => line.digest === weights.digest)?.completed).toBe(part.Completed);
    expect(`sha256:${sha256(readFileSync(blobPath))}`).toBe(weights.digest);
    expect(await tagNames(bob)).toEqual([name]);
  });

  it('should start a blob over when its kept parts are unreadable', async () => {
    const { alice, bob, bobDir, manifest } = await setup();
    const proxy = await withProxy(alice);
    const weights = manifest.layers[0]!;
    const blobPath = join(bobDir, 'blobs', `sha256-${weights.digest.slice(7)}`);
    proxy.faults.cutNextRangeAfter = 120_000;
    const name = `${proxy.host}/library/llama3.2:3b`;
    expect((await pull(bob, name)).at(-1)).toEqual({ error: 'unexpected EOF' });
    writeFileSync(`${blobPath}-partial-0`, '{"N":0,');
    proxy.seen.length = 0;
    expect((await pull(bob, name)).at(-1)).toEqual({ status: 'success' });
    expect(proxy.seen).toContain(
      `GET /v2/library/llama3.2/blobs/${weights.digest} bytes=0-${weights.size - 1}`,
    );
    expect(`sha256:${sha256(readFileSync(blobPath))}`).toBe(weights.digest);
  });

  it("should fetch a large blob in Range parts of Ollama's sizes", async () => {
    // 150 MB: a sixteenth is under minDownloadPartSize, so parts of 100 MB and 50 MB.
    const { alice, bob, bobDir, manifest } = await setup(150_000_000);
    const proxy = await withProxy(alice);
    const lines = await pull(bob, `${proxy.host}/library/llama3.2:3b`);
    expect(lines.at(-1)).toEqual({ status: 'success' });
    const weights = manifest.layers[0]!;
    const ranges = proxy.seen.filter((line) => line.includes(weights.digest) && line.includes('bytes='));
    expect(ranges.map((line) => line.split(' ')[2]).sort()).toEqual([
      'bytes=0-99999999',
      'bytes=100000000-149999999',
    ]);
    const blob = readFileSync(join(bobDir, 'blobs', `sha256-${weights.digest.slice(7)}`));
    expect(`sha256:${sha256(blob)}`).toBe(weights.digest);
  });

  it('should let two pulls of one model at once both succeed', async () => {
    const { alice, bob, bobDir, manifest } = await setup(5_000_000);
    const name = `${new URL(alice.url).host}/library/llama3.2:3b`;
    const [first, second] = await Promise.all([pull(bob, name), pull(bob, name)]);
    expect(first!.at(-1)).toEqual({ status: 'success' });
    expect(second!.at(-1)).toEqual({ status: 'success' });
    const weights = manifest.layers[0]!;
    const blob = readFileSync(join(bobDir, 'blobs', `sha256-${weights.digest.slice(7)}`));
    expect(`sha256:${sha256(blob)}`).toBe(weights.digest);
  });

  it('should refuse a manifest whose digests are not sha256 hex, writing nothing', async () => {
    const { alice, aliceDir, bob, bobDir, manifestBytes } = await setup();
    const path = join(aliceDir, 'manifests', 'registry.ollama.ai', 'library', 'llama3.2', '3b');
    const hostile = JSON.parse(manifestBytes) as ManifestFile;
    hostile.layers[0]!.digest = 'sha256:../../../escaped';
    writeFileSync(path, JSON.stringify(hostile));
    const lines = await pull(bob, `${new URL(alice.url).host}/library/llama3.2:3b`);
    expect(lines.at(-1)).toEqual({ error: 'invalid digest format' });
    expect(readdirSync(join(bobDir, 'blobs'))).toEqual([]);
    expect(await tagNames(bob)).toEqual([]);
  });
});
