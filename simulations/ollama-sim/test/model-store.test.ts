/**
 * The store on disk (`storeDir`), checked against Ollama's layout (manifest/paths.go) and its
 * manifests (Docker v2 schema 2 with the Ollama media types): every blob is a file named by its
 * true sha256, the /api/tags digest is the sha256 of the manifest file, and copy, delete and a
 * restart read and write those files.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type OllamaSim, startOllamaSim } from '../src/index.js';
import { post } from './helpers.js';

interface ManifestFile {
  schemaVersion: number;
  mediaType: string;
  config: { mediaType: string; digest: string; size: number };
  layers: Array<{ mediaType: string; digest: string; size: number }>;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

describe('model store on disk', () => {
  const sims: OllamaSim[] = [];
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ollama-sim-store-'));
    dirs.push(dir);
    return dir;
  };
  const start = async (storeDir: string, models = ['llama3.2:3b']) => {
    const sim = await startOllamaSim({ profile: 'fast', models, storeDir, modelBytes: 100_000 });
    sims.push(sim);
    return sim;
  };
  afterEach(async () => {
    for (const sim of sims.splice(0)) await sim.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const tags = async (sim: OllamaSim) =>
    (
      (await (await fetch(`${sim.url}/api/tags`)).json()) as {
        models: Array<{ name: string; digest: string }>;
      }
    ).models;
  const manifestPath = (dir: string, model: string, tag: string) =>
    join(dir, 'manifests', 'registry.ollama.ai', 'library', model, tag);

  it("should keep manifests and blobs in Ollama's layout with true sha256 digests", async () => {
    const dir = tempDir();
    const sim = await start(dir);
    const bytes = readFileSync(manifestPath(dir, 'llama3.2', '3b'));
    const manifest = JSON.parse(bytes.toString('utf8')) as ManifestFile;
    expect(manifest.schemaVersion).toBe(2);
    expect(manifest.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(manifest.config.mediaType).toBe('application/vnd.docker.container.image.v1+json');
    expect(manifest.layers.map((layer) => layer.mediaType)).toEqual([
      'application/vnd.ollama.image.model',
      'application/vnd.ollama.image.template',
      'application/vnd.ollama.image.license',
      'application/vnd.ollama.image.params',
    ]);
    for (const layer of [...manifest.layers, manifest.config]) {
      const blob = readFileSync(join(dir, 'blobs', `sha256-${layer.digest.slice(7)}`));
      expect(blob.length).toBe(layer.size);
      expect(`sha256:${sha256(blob)}`).toBe(layer.digest);
    }
    const weights = readFileSync(join(dir, 'blobs', `sha256-${manifest.layers[0]!.digest.slice(7)}`));
    expect(weights.length).toBe(100_000);
    expect(weights.subarray(0, 4).toString()).toBe('GGUF');
    expect(await tags(sim)).toEqual([
      expect.objectContaining({ name: 'llama3.2:3b', digest: sha256(bytes) }),
    ]);
  });

  it('should write copies, delete unused blobs only, and list what is on disk after a restart', async () => {
    const dir = tempDir();
    const sim = await start(dir);
    expect(
      (await post(`${sim.url}/api/copy`, { source: 'llama3.2:3b', destination: 'mine:v1' })).status,
    ).toBe(200);
    const original = readFileSync(manifestPath(dir, 'llama3.2', '3b'), 'utf8');
    expect(readFileSync(manifestPath(dir, 'mine', 'v1'), 'utf8')).toBe(original);
    const blobs = (JSON.parse(original) as ManifestFile).layers.map((layer) =>
      join(dir, 'blobs', `sha256-${layer.digest.slice(7)}`),
    );
    const deleted = await fetch(`${sim.url}/api/delete`, {
      method: 'DELETE',
      body: JSON.stringify({ model: 'llama3.2:3b' }),
    });
    expect(deleted.status).toBe(200);
    expect(existsSync(manifestPath(dir, 'llama3.2', '3b'))).toBe(false);
    // The copy still names every blob.
    expect(blobs.every((path) => existsSync(path))).toBe(true);
    await sim.close();

    const again = await start(dir, []);
    expect((await tags(again)).map((model) => model.name)).toEqual(['mine:v1']);
    const show = await post(`${again.url}/api/show`, { model: 'mine:v1' });
    expect(show.status).toBe(200);
    expect(((await show.json()) as { details: { family: string } }).details.family).toBe('llama');
    await fetch(`${again.url}/api/delete`, { method: 'DELETE', body: JSON.stringify({ model: 'mine:v1' }) });
    expect(blobs.some((path) => existsSync(path))).toBe(false);
  });

  it('should write a created model to disk', async () => {
    const dir = tempDir();
    const sim = await start(dir);
    const created = await post(`${sim.url}/api/create`, {
      model: 'helper:latest',
      from: 'llama3.2:3b',
      system: 'You help.',
      stream: false,
    });
    expect(created.status).toBe(200);
    const manifest = JSON.parse(readFileSync(manifestPath(dir, 'helper', 'latest'), 'utf8')) as ManifestFile;
    const system = manifest.layers.find((layer) => layer.mediaType === 'application/vnd.ollama.image.system');
    expect(readFileSync(join(dir, 'blobs', `sha256-${system!.digest.slice(7)}`), 'utf8')).toBe('You help.');
  });

  it('should file uploaded blobs on disk under their digest and pull library models with true digests', async () => {
    const dir = tempDir();
    const sim = await start(dir);
    const gguf = Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(4096, 7)]);
    const digest = `sha256:${sha256(gguf)}`;
    expect((await fetch(`${sim.url}/api/blobs/${digest}`, { method: 'POST', body: gguf })).status).toBe(201);
    expect(readFileSync(join(dir, 'blobs', `sha256-${sha256(gguf)}`))).toEqual(gguf);
    const created = await post(`${sim.url}/api/create`, {
      model: 'home-made',
      files: { 'model.gguf': digest },
      stream: false,
    });
    expect(created.status).toBe(200);
    const manifest = JSON.parse(
      readFileSync(manifestPath(dir, 'home-made', 'latest'), 'utf8'),
    ) as ManifestFile;
    expect(manifest.layers.map((layer) => layer.digest)).toContain(digest);

    const pulled = await post(`${sim.url}/api/pull`, { model: 'all-minilm', stream: false });
    expect(await pulled.json()).toEqual({ status: 'success' });
    const minilm = JSON.parse(
      readFileSync(manifestPath(dir, 'all-minilm', 'latest'), 'utf8'),
    ) as ManifestFile;
    for (const layer of [...minilm.layers, minilm.config]) {
      const blob = readFileSync(join(dir, 'blobs', `sha256-${layer.digest.slice(7)}`));
      expect(`sha256:${sha256(blob)}`).toBe(layer.digest);
    }
  });

  it('should refuse store options without a storeDir, and weights of no size', async () => {
    await expect(startOllamaSim({ serveRegistry: true })).rejects.toThrow(
      'serveRegistry and modelBytes need a storeDir',
    );
    await expect(startOllamaSim({ storeDir: tempDir(), modelBytes: 0 })).rejects.toThrow(
      'modelBytes must be a positive integer, got 0',
    );
  });

  it('should start on a store holding a broken manifest, listing only the sound ones', async () => {
    const dir = tempDir();
    await (await start(dir)).close();
    const broken = manifestPath(dir, 'broken', 'latest');
    mkdirSync(dirname(broken), { recursive: true });
    writeFileSync(broken, '{"schemaVersion":2,"layers":[');
    const sim = await start(dir, []);
    expect((await tags(sim)).map((model) => model.name)).toEqual(['llama3.2:3b']);
  });
});
