/**
 * Create and blobs, checked against CreateHandler and createModel (server/create.go), NewLayer and
 * NewLayerFromLayer (manifest/layer.go), parseFromModel (server/model.go), and HeadBlobHandler /
 * CreateBlobHandler (server/routes.go).
 */
import { createHash } from 'node:crypto';
import { Ollama } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { expectedAnswer, type OllamaSim, startOllamaSim } from '../src/index.js';
import { post, readNdjson } from './helpers.js';

function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

describe('create', () => {
  let sim: OllamaSim | undefined;
  const start = async () => {
    sim = await startOllamaSim({ profile: 'fast', models: ['llama3.2:3b', 'all-minilm'] });
    return { s: sim, ollama: new Ollama({ host: sim.url }) };
  };
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('should make a model from another with a system prompt, parameters and messages', async () => {
    const { s, ollama } = await start();
    const lines = (await readNdjson(
      await post(`${s.url}/api/create`, {
        model: 'terse',
        from: 'llama3.2:3b',
        system: 'Answer in one line.',
        parameters: { num_predict: 6, temperature: 0.2 },
        messages: [
          { role: 'user', content: 'Who are you?' },
          { role: 'assistant', content: 'A terse helper.' },
        ],
      }),
    )) as Array<{ status: string }>;
    const statuses = lines.map((line) => line.status);
    // The base layers are taken over; system, params and messages are new; then the manifest.
    expect(
      statuses.slice(0, 3).every((status) => /^using existing layer sha256:[0-9a-f]{64}$/.test(status)),
    ).toBe(true);
    expect(
      statuses.slice(3, 6).every((status) => /^creating new layer sha256:[0-9a-f]{64}$/.test(status)),
    ).toBe(true);
    expect(statuses.slice(-2)).toEqual(['writing manifest', 'success']);

    const shown = await ollama.show({ model: 'terse' });
    expect(shown.system).toBe('Answer in one line.');
    expect(shown.parameters).toContain('num_predict                    6');
    expect(shown.modelfile).toContain('SYSTEM Answer in one line.\n');
    expect(shown.modelfile).toContain('MESSAGE user Who are you?\n');

    // The model's system prompt and messages come before the chat, and num_predict is its default.
    const messages = [{ role: 'user', content: 'What is a mesh?' }];
    const reply = await ollama.chat({ model: 'terse', messages, stream: false });
    const conversation = [
      { role: 'system', content: 'Answer in one line.' },
      { role: 'user', content: 'Who are you?' },
      { role: 'assistant', content: 'A terse helper.' },
      ...messages,
    ];
    expect(reply.message.content).toBe(expectedAnswer('llama3.2:3b', conversation, 6));
    expect(reply.done_reason).toBe('length');
    // A system message of the caller's own replaces the model's.
    const own = [{ role: 'system', content: 'Be verbose.' }, ...messages];
    const overridden = await ollama.chat({
      model: 'terse',
      messages: own,
      options: { num_predict: 8 },
      stream: false,
    });
    expect(overridden.message.content).toBe(
      expectedAnswer('llama3.2:3b', [conversation[1]!, conversation[2]!, ...own], 8),
    );
  });

  it('should pull a missing base first, and fail like a pull when there is none', async () => {
    const { s, ollama } = await start();
    const lines = (await readNdjson(
      await post(`${s.url}/api/create`, { model: 'coder', from: 'qwen2.5-coder:7b' }),
    )) as Array<{
      status?: string;
      error?: string;
    }>;
    expect(lines[0]).toEqual({ status: 'pulling manifest' });
    expect(lines.at(-1)).toEqual({ status: 'success' });
    const names = (await ollama.list()).models.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['coder:latest', 'qwen2.5-coder:7b']));

    const missing = await post(`${s.url}/api/create`, {
      model: 'ghost',
      from: 'no-such-model',
      stream: false,
    });
    expect(missing.status).toBe(500);
    expect(await missing.json()).toEqual({ error: 'pull model manifest: file does not exist' });
    expect((await ollama.list()).models.map((m) => m.name)).not.toContain('ghost:latest');
  });

  it("should refuse bad requests with Ollama's status and text", async () => {
    const { s } = await start();
    const cases: Array<[Record<string, unknown>, number, string]> = [
      [{ model: 'x' }, 400, "neither 'from' or 'files' was specified"],
      [{ model: 'bad name', from: 'llama3.2:3b' }, 400, 'invalid model name'],
      [{ from: 'llama3.2:3b' }, 400, 'invalid model name'],
      [{ model: 'x', from: 'not valid!' }, 400, 'invalid model name'],
      [{ model: 'x', files: { '../model.gguf': sha256('x') } }, 400, 'file path must be relative'],
      [{ model: 'x', files: { 'model.gguf': '' } }, 400, 'invalid digest format'],
      [
        { model: 'x', from: 'llama3.2:3b', template: '{{ .Prompt' },
        400,
        'template error: template: :1: unclosed action',
      ],
      [
        { model: 'x', from: 'llama3.2:3b', quantize: 'q4_k_m' },
        500,
        'quantization is only supported for F16, BF16 and F32 models',
      ],
      [
        { model: 'x', from: 'all-minilm', quantize: 'q3' },
        500,
        'unsupported quantization type Q3 - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0',
      ],
      [{ model: 'x', files: { weights: sha256('nothing') } }, 400, 'unknown type'],
      [
        { model: 'x', messages: 'hi' },
        400,
        'json: cannot unmarshal string into Go struct field CreateRequest.messages of type []api.Message',
      ],
    ];
    for (const [body, status, error] of cases) {
      const response = await post(`${s.url}/api/create`, { ...body, stream: false });
      expect({ body, status: response.status, json: await response.json() }).toEqual({
        body,
        status,
        json: { error },
      });
    }
  });

  it('should quantize an F16 model into a smaller one', async () => {
    const { s, ollama } = await start();
    const lines = (await readNdjson(
      await post(`${s.url}/api/create`, { model: 'minilm-q4', from: 'all-minilm', quantize: 'q4_k_m' }),
    )) as Array<{ status: string; total?: number; completed?: number }>;
    const quantizing = lines.filter((line) => line.status === 'quantizing F16 model to Q4_K_M');
    expect(quantizing.length).toBeGreaterThan(1);
    expect(quantizing.at(-1)!.completed).toBe(quantizing.at(-1)!.total);
    expect(lines.map((line) => line.status)).toContain('verifying conversion');
    const { models } = await ollama.list();
    const q4 = models.find((m) => m.name === 'minilm-q4:latest')!;
    expect(q4.details.quantization_level).toBe('Q4_K_M');
    expect(q4.size).toBeLessThan(models.find((m) => m.name === 'all-minilm:latest')!.size / 2);
  });

  it('should make a model from files uploaded as blobs', async () => {
    const { s, ollama } = await start();
    const gguf = Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(4096, 7)]);
    const digest = sha256(gguf);
    expect((await fetch(`${s.url}/api/blobs/${digest}`, { method: 'POST', body: gguf })).status).toBe(201);
    const text = Buffer.from('not a model');
    await fetch(`${s.url}/api/blobs/${sha256(text)}`, { method: 'POST', body: text });

    const notGguf = await post(`${s.url}/api/create`, {
      model: 'x',
      files: { 'x.gguf': sha256(text) },
      stream: false,
    });
    expect(notGguf.status).toBe(400);
    expect(await notGguf.json()).toEqual({ error: 'supplied file was not in GGUF format' });
    const absent = sha256('absent');
    const missing = await post(`${s.url}/api/create`, {
      model: 'x',
      files: { 'x.gguf': absent },
      stream: false,
    });
    expect(missing.status).toBe(500);
    expect(await missing.json()).toEqual({
      error: `open /usr/share/ollama/.ollama/models/blobs/${absent.replace(':', '-')}: no such file or directory`,
    });

    const lines = (await readNdjson(
      await post(`${s.url}/api/create`, { model: 'home-made', files: { 'model.gguf': digest } }),
    )) as Array<{
      status: string;
    }>;
    expect(lines.map((line) => line.status)).toEqual([
      'parsing GGUF',
      `using existing layer ${digest}`,
      'writing manifest',
      'success',
    ]);
    const shown = await ollama.show({ model: 'home-made' });
    // Without a template of its own a model gets Ollama's default `{{ .Prompt }}`: no tools.
    expect(shown.capabilities).toEqual(['completion']);
    const messages = [{ role: 'user', content: 'hello' }];
    const first = await ollama.chat({ model: 'home-made', messages, stream: false });
    const again = await ollama.chat({ model: 'home-made', messages, stream: false });
    expect(first.message.content).toBe(again.message.content);
    expect(first.message.content).not.toBe(expectedAnswer('llama3.2:3b', messages));

    // The weights blob of an installed model makes a model that answers like it.
    const weights = `sha256:${shown.modelfile.match(/sha256-([0-9a-f]{64})/)![1]}`;
    expect(weights).toBe(digest);
    const llamaWeights = `sha256:${(await ollama.show({ model: 'llama3.2:3b' })).modelfile.match(/sha256-([0-9a-f]{64})/)![1]}`;
    await ollama.create({ model: 'llama-again', files: { 'model.gguf': llamaWeights } } as never);
    expect((await ollama.chat({ model: 'llama-again', messages, stream: false })).message.content).toBe(
      expectedAnswer('llama3.2:3b', messages),
    );
  });
});

describe('blobs', () => {
  let sim: OllamaSim | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('should check, store and refuse blobs as HeadBlobHandler and CreateBlobHandler do', async () => {
    sim = await startOllamaSim({ profile: 'fast' });
    const url = (digest: string) => `${sim!.url}/api/blobs/${digest}`;
    const data = Buffer.from('some weights');
    const digest = sha256(data);

    const invalid = await fetch(url('sha256:xyz'), { method: 'POST', body: data });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({ error: 'invalid digest format' });
    expect((await fetch(url('md5:abc'), { method: 'HEAD' })).status).toBe(400);
    const absent = await fetch(url(digest), { method: 'HEAD' });
    expect(absent.status).toBe(404);

    const wrong = sha256('other');
    const mismatch = await fetch(url(wrong), { method: 'POST', body: data });
    expect(mismatch.status).toBe(400);
    expect(await mismatch.json()).toEqual({ error: `digest mismatch, expected "${wrong}", got "${digest}"` });
    // NewLayer stored the upload under its true digest before the names were compared.
    expect((await fetch(url(digest), { method: 'HEAD' })).status).toBe(200);

    const other = Buffer.from('more weights');
    expect((await fetch(url(sha256(other)), { method: 'POST', body: other })).status).toBe(201);
    expect((await fetch(url(sha256(other)), { method: 'POST', body: other })).status).toBe(200);
    expect((await fetch(url(sha256(other).replace(':', '-')), { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(url(sha256(other)), { method: 'GET' })).status).toBe(405);
  });
});
