/**
 * Capabilities as Ollama derives them (Model.Capabilities in server/images.go): the weights give
 * completion or embedding and vision, the template gives tools (`.Tools`), insert (`.Suffix`) and
 * thinking (`.Thinking` in the messages range). /api/show and /api/tags list them, and
 * scheduleRunner refuses a request that needs one the model lacks.
 */
import { Ollama } from 'ollama';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templateCapabilities } from '../src/capabilities.js';
import {
  type Capability,
  expectedAnswer,
  MODEL_CATALOG,
  type OllamaSim,
  startOllamaSim,
} from '../src/index.js';
import { post } from './helpers.js';

describe('capabilities', () => {
  let sim: OllamaSim;
  let ollama: Ollama;

  beforeAll(async () => {
    sim = await startOllamaSim({ profile: 'fast', models: Object.keys(MODEL_CATALOG) });
    ollama = new Ollama({ host: sim.url });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('should show each catalog model with the capabilities the library lists', async () => {
    const expected: Record<string, Capability[]> = {
      'llama3.2:3b': ['completion', 'tools'],
      'qwen2.5-coder:7b': ['completion', 'tools', 'insert'],
      'qwen3:8b': ['completion', 'tools', 'thinking'],
      'gemma3:4b': ['completion', 'vision'],
      'llava:7b': ['completion', 'vision'],
      'all-minilm:latest': ['embedding'],
    };
    for (const [model, capabilities] of Object.entries(expected)) {
      expect((await ollama.show({ model })).capabilities).toEqual(capabilities);
    }
    const { models } = (await (await fetch(`${sim.url}/api/tags`)).json()) as {
      models: Array<{ name: string; capabilities: Capability[] }>;
    };
    for (const entry of models) expect(entry.capabilities).toEqual(MODEL_CATALOG[entry.name]!.capabilities);
  });

  it('should derive capabilities from a template as goTemplateCapabilities does', () => {
    expect(templateCapabilities('{{ .Prompt }}')).toEqual([]);
    expect(templateCapabilities('{{ if .Tools }}{{ .Tools }}{{ end }}{{ .Prompt }}')).toEqual(['tools']);
    expect(templateCapabilities('{{ .Prompt }}<fim>{{ .Suffix }}')).toEqual(['insert']);
    expect(
      templateCapabilities('{{ range .Messages }}<think>{{ .Thinking }}</think>{{ .Content }}{{ end }}'),
    ).toEqual(['thinking']);
  });

  it('should follow the model: a new template takes tools away, info adds capabilities', async () => {
    await ollama.create({ model: 'plain-llama', from: 'llama3.2:3b', template: '{{ .Prompt }}' });
    expect((await ollama.show({ model: 'plain-llama' })).capabilities).toEqual(['completion']);
    const refused = await post(`${sim.url}/api/chat`, {
      model: 'plain-llama',
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'f' } }],
    });
    expect(await refused.json()).toEqual({
      error: 'registry.ollama.ai/library/plain-llama:latest does not support tools',
    });
    // It still answers like its weights.
    const messages = [{ role: 'user', content: 'hi' }];
    expect((await ollama.chat({ model: 'plain-llama', messages, stream: false })).message.content).toBe(
      expectedAnswer('llama3.2:3b', messages),
    );
    const created = await post(`${sim.url}/api/create`, {
      model: 'seeing-llama',
      from: 'llama3.2:3b',
      info: { capabilities: ['vision'] },
      stream: false,
    });
    expect(created.status).toBe(200);
    expect((await ollama.show({ model: 'seeing-llama' })).capabilities).toEqual([
      'vision',
      'completion',
      'tools',
    ]);
  });

  it('should need insert for a suffix, and name what is missing', async () => {
    const coder = await ollama.generate({
      model: 'qwen2.5-coder:7b',
      prompt: 'def add(a, b):',
      suffix: '\n',
      stream: false,
    });
    expect(coder.response).toBeTruthy();
    const response = await post(`${sim.url}/api/generate`, {
      model: 'llama3.1:8b',
      prompt: 'x',
      suffix: 'y',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: 'registry.ollama.ai/library/llama3.1:8b does not support insert',
    });
    const embedding = await post(`${sim.url}/api/generate`, { model: 'nomic-embed-text', prompt: 'x' });
    expect(await embedding.json()).toEqual({ error: '"nomic-embed-text" does not support generate' });
  });
});
