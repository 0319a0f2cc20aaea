/**
 * Images, checked against Ollama: they are base64 `[]byte` (api.ImageData), so bad base64 is a 400
 * with Go's text; a vision model sees them (chatPrompt counts 768 prompt tokens each); a text-only
 * model's runner drops them (runner/ollamarunner inputs() in v0.12.0, the version the simulator
 * reports), so its answer is the one without images.
 */
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedAnswer, type OllamaSim, startOllamaSim } from '../src/index.js';
import { post } from './helpers.js';

const CAT = Buffer.from('a picture of a cat').toString('base64');
const DOG = Buffer.from('a picture of a dog').toString('base64');

describe('images', () => {
  let sim: OllamaSim;
  let ollama: Ollama;

  beforeAll(async () => {
    sim = await startOllamaSim({ profile: 'fast', models: ['llava:7b', 'gemma3:4b', 'llama3.2:3b'] });
    ollama = new Ollama({ host: sim.url });
  });
  afterAll(async () => {
    await sim.close();
  });

  const chat = async (model: string, images: string[] | undefined) => {
    const message = { role: 'user', content: 'What is in this picture?', ...(images ? { images } : {}) };
    // Unloaded after each answer, so no request finds the last one's prompt in the KV cache.
    const response = await post(`${sim.url}/api/chat`, {
      model,
      messages: [message],
      stream: false,
      keep_alive: 0,
    });
    return (await response.json()) as { message: { content: string }; prompt_eval_count: number };
  };

  it('should let a vision model see the images: the answer follows them', async () => {
    const cat = await chat('llava:7b', [CAT]);
    const dog = await chat('llava:7b', [DOG]);
    const none = await chat('llava:7b', undefined);
    expect(cat.message.content).not.toBe(dog.message.content);
    expect(cat.message.content).not.toBe(none.message.content);
    expect(cat.message.content).toBe(
      expectedAnswer('llava:7b', [{ role: 'user', content: 'What is in this picture?', images: [CAT] }]),
    );
    expect(cat.prompt_eval_count - none.prompt_eval_count).toBe(768);
    expect(
      (await chat('gemma3:4b', [CAT, DOG])).prompt_eval_count -
        (await chat('gemma3:4b', undefined)).prompt_eval_count,
    ).toBe(2 * 768);
  });

  it('should take images as bytes from the official client, and in /api/generate', async () => {
    const reply = await ollama.chat({
      model: 'llava:7b',
      messages: [
        { role: 'user', content: 'What is in this picture?', images: [Buffer.from('a picture of a cat')] },
      ],
      stream: false,
    });
    expect(reply.message.content).toBe((await chat('llava:7b', [CAT])).message.content);
    const generated = await post(`${sim.url}/api/generate`, {
      model: 'llava:7b',
      prompt: 'What is in this picture?',
      images: [CAT],
      stream: false,
    });
    expect(((await generated.json()) as { response: string }).response).toBe(
      (await chat('llava:7b', [CAT])).message.content,
    );
  });

  it('should leave images out for a model without vision', async () => {
    const seen = await chat('llama3.2:3b', [CAT]);
    expect(seen.message.content).toBe(
      expectedAnswer('llama3.2:3b', [{ role: 'user', content: 'What is in this picture?' }]),
    );
    expect(seen.prompt_eval_count).toBe((await chat('llama3.2:3b', undefined)).prompt_eval_count);
  });

  it('should refuse images that are not base64 with Go’s error', async () => {
    const bad = await post(`${sim.url}/api/chat`, {
      model: 'llava:7b',
      messages: [{ role: 'user', content: 'x', images: ['not base64!'] }],
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'illegal base64 data at input byte 3' });
    const typed = await post(`${sim.url}/api/generate`, { model: 'llava:7b', prompt: 'x', images: [5] });
    expect(typed.status).toBe(400);
    expect(await typed.json()).toEqual({
      error:
        'json: cannot unmarshal number into Go struct field GenerateRequest.images of type api.ImageData',
    });
    const notList = await post(`${sim.url}/api/chat`, {
      model: 'llava:7b',
      messages: [{ role: 'user', content: 'x', images: 5 }],
    });
    expect(await notList.json()).toEqual({
      error:
        'json: cannot unmarshal number into Go struct field ChatRequest.messages.images of type []api.ImageData',
    });
  });
});
