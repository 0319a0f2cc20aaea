/**
 * Pull and delete, checked against PullHandler/PullModel (server/routes.go, server/images.go),
 * downloadBlob and blobDownload.Wait (server/download.go) and DeleteHandler: progress lines are
 * api.ProgressResponse with omitempty totals, one layer after another including the config, a blob
 * already present is reported complete at once, an unknown model fails after `pulling manifest`,
 * and only a finished pull adds the model.
 */
import { Ollama } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { type OllamaSim, type OllamaSimOptions, PROFILES, startOllamaSim } from '../src/index.js';
import { post, readNdjson, waitFor } from './helpers.js';

interface Line {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
  error?: string;
}

describe('pull', () => {
  let sim: OllamaSim | undefined;
  const start = async (options: OllamaSimOptions = {}) => {
    sim = await startOllamaSim({ profile: 'fast', models: ['llama3.2:3b'], ...options });
    return sim;
  };
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });
  const tags = async (s: OllamaSim) =>
    ((await (await fetch(`${s.url}/api/tags`)).json()) as { models: Array<{ name: string }> }).models.map(
      (m) => m.name,
    );

  it('should report each layer as Ollama does, then install the model', async () => {
    const s = await start();
    const lines = (await readNdjson(
      await post(`${s.url}/api/pull`, { model: 'nomic-embed-text' }),
    )) as Line[];
    expect(lines[0]).toEqual({ status: 'pulling manifest' });
    expect(lines.slice(-3)).toEqual([
      { status: 'verifying sha256 digest' },
      { status: 'writing manifest' },
      { status: 'success' },
    ]);
    const layers = lines.filter((line) => line.digest !== undefined);
    const digests = [...new Set(layers.map((line) => line.digest!))];
    // Weights, template, license, params and the config layer.
    expect(digests).toHaveLength(5);
    for (const digest of digests) {
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      const mine = layers.filter((line) => line.digest === digest);
      expect(mine.every((line) => line.status === `pulling ${digest.slice(7, 19)}`)).toBe(true);
      const completed = mine.map((line) => line.completed ?? 0);
      expect(completed).toEqual([...completed].sort((a, b) => a - b));
      expect(mine.at(-1)!.completed).toBe(mine[0]!.total);
      // Completed is never a zero that omitempty would drop anyway.
      expect(mine.every((line) => line.completed !== 0)).toBe(true);
    }
    expect(await tags(s)).toContain('nomic-embed-text:latest');
  });

  it("should download at the profile's speed", async () => {
    const s = await start({ profile: { ...PROFILES.fast!, downloadBytesPerSecond: 200e6 } });
    const started = performance.now();
    const lines = (await readNdjson(
      await post(`${s.url}/api/pull`, { model: 'nomic-embed-text' }),
    )) as Line[];
    const elapsed = performance.now() - started;
    // 274 MB at 200 MB/s: at least 1.37 s, reported on every 60 ms tick.
    expect(elapsed).toBeGreaterThanOrEqual(1370);
    const weights = lines.filter((line) => (line.total ?? 0) > 1e8);
    expect(weights.length).toBeGreaterThanOrEqual(15);
    expect(weights[0]!.completed!).toBeLessThan(0.2 * weights[0]!.total!);
    expect(PROFILES.gpu!.downloadBytesPerSecond).toBeLessThan(PROFILES.fast!.downloadBytesPerSecond!);
  });

  it('should report blobs already present as complete at once', async () => {
    const s = await start();
    // llama3.2:latest is the same model as llama3.2:3b, so every blob is there.
    const lines = (await readNdjson(await post(`${s.url}/api/pull`, { model: 'llama3.2' }))) as Line[];
    const layers = lines.filter((line) => line.digest !== undefined);
    expect(layers).toHaveLength(5);
    expect(layers.every((line) => line.completed === line.total)).toBe(true);
    const show = await new Ollama({ host: s.url }).list();
    const digests = show.models.map((m) => m.digest);
    expect(new Set(digests).size).toBe(1);
  });

  it("should fail an unknown model with Ollama's error and list nothing new", async () => {
    const s = await start();
    const streamed = await post(`${s.url}/api/pull`, { model: 'no-such-model' });
    expect(streamed.status).toBe(200);
    expect(await readNdjson(streamed)).toEqual([
      { status: 'pulling manifest' },
      { error: 'pull model manifest: file does not exist' },
    ]);
    const whole = await post(`${s.url}/api/pull`, { model: 'no-such-model', stream: false });
    expect(whole.status).toBe(500);
    expect(await whole.json()).toEqual({ error: 'pull model manifest: file does not exist' });
    expect(await tags(s)).toEqual(['llama3.2:3b']);
    for (const model of ['', 'bad name']) {
      const bad = await post(`${s.url}/api/pull`, { model });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toEqual({ error: 'invalid model name' });
    }
  });

  it('should leave nothing half-written when the client leaves mid-pull', async () => {
    const s = await start({ profile: { ...PROFILES.fast!, downloadBytesPerSecond: 50e6 } });
    const controller = new AbortController();
    const response = await post(`${s.url}/api/pull`, { model: 'llama3.1:8b' }, { signal: controller.signal });
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('"completed"')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const digest = (JSON.parse(text.split('\n').find((line) => line.includes('"completed"'))!) as Line)
      .digest!;
    controller.abort();
    await waitFor(() => s.stats().cancelled === 1);
    expect(await tags(s)).not.toContain('llama3.1:8b');
    expect((await fetch(`${s.url}/api/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
  });

  it('should delete a model and the blobs no other model uses', async () => {
    const s = await start({ models: ['llama3.2:3b', 'all-minilm'] });
    const ollama = new Ollama({ host: s.url });
    const weights = (await ollama.show({ model: 'all-minilm' })).modelfile.match(
      /blobs\/sha256-([0-9a-f]{64})/,
    )![1]!;
    const head = async () => (await fetch(`${s.url}/api/blobs/sha256:${weights}`, { method: 'HEAD' })).status;
    expect(await head()).toBe(200);
    await ollama.copy({ source: 'all-minilm', destination: 'minilm-copy' });
    await ollama.delete({ model: 'all-minilm' });
    expect(await head()).toBe(200);
    await ollama.delete({ model: 'minilm-copy' });
    expect(await head()).toBe(404);
    const missing = await fetch(`${s.url}/api/delete`, {
      method: 'DELETE',
      body: JSON.stringify({ model: 'gone' }),
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "model 'gone' not found" });
    const invalid = await fetch(`${s.url}/api/delete`, {
      method: 'DELETE',
      body: JSON.stringify({ model: 'a b' }),
    });
    expect(await invalid.json()).toEqual({ error: 'name "a b" is invalid' });
    const empty = await fetch(`${s.url}/api/delete`, { method: 'DELETE', body: JSON.stringify({}) });
    expect(await empty.json()).toEqual({ error: 'model is required' });
  });

  it('should copy like CopyHandler: the same digest and answers, with its errors', async () => {
    const s = await start();
    const bad = await post(`${s.url}/api/copy`, { source: 'llama3.2:3b', destination: 'no good' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'destination "no good" is invalid' });
    const missing = await post(`${s.url}/api/copy`, { source: 'nope', destination: 'x' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'model "nope" not found' });
    expect((await post(`${s.url}/api/copy`, { source: 'llama3.2:3b', destination: 'mine' })).status).toBe(
      200,
    );
    const { models } = await new Ollama({ host: s.url }).list();
    expect(models.find((m) => m.name === 'mine:latest')!.digest).toBe(
      models.find((m) => m.name === 'llama3.2:3b')!.digest,
    );
  });
});
