import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HardwareProfile, type OllamaSim, PROFILES, startOllamaSim } from '../src/index.js';
import { post } from './helpers.js';

/** Instant generation, so only the reported metrics matter; a load takes 100 ms per GB. */
const quick: HardwareProfile = {
  ...PROFILES.fast!,
  name: 'quick',
  parallelSlots: 2,
  loadMsPerGB: 100,
};

interface Final {
  message: { content: string };
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
}

describe('KV cache reuse and num_ctx reloads, as Ollama reports them', () => {
  let sim: OllamaSim;
  const model = 'llama3.2:3b';
  const chat = async (messages: unknown[], options: Record<string, unknown> = {}) =>
    (await (
      await post(`${sim.url}/api/chat`, {
        model,
        messages,
        stream: false,
        options: { num_predict: 8, ...options },
      })
    ).json()) as Final;

  beforeAll(async () => {
    sim = await startOllamaSim({ profile: quick, models: [model] });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('should evaluate only the new tokens of a conversation’s next turn', async () => {
    const opening = [
      { role: 'system', content: 'You read long documents. '.repeat(100) },
      { role: 'user', content: 'Summarise it.' },
    ];
    const first = await chat(opening);
    expect(first.prompt_eval_count).toBeGreaterThan(400);
    const second = await chat([
      ...opening,
      { role: 'assistant', content: first.message.content },
      { role: 'user', content: 'Shorter, please.' },
    ]);
    expect(second.prompt_eval_count).toBeGreaterThan(0);
    expect(second.prompt_eval_count).toBeLessThan(20);
    // Another conversation shares nothing but the start token.
    const other = await chat([{ role: 'user', content: 'Something else entirely. '.repeat(50) }]);
    expect(other.prompt_eval_count).toBeGreaterThan(200);
  });

  it('should reload a model asked for with another num_ctx, and report that context in /api/ps', async () => {
    const context = async () =>
      ((await (await fetch(`${sim.url}/api/ps`)).json()) as { models: Array<{ context_length: number }> })
        .models[0]!.context_length;
    const warm = await chat([{ role: 'user', content: 'hi' }]);
    expect(warm.load_duration).toBeLessThan(50e6);
    expect(await context()).toBe(4096);
    const reloaded = await chat([{ role: 'user', content: 'hi' }], { num_ctx: 8192 });
    // 2 GB at 100 ms/GB.
    expect(reloaded.load_duration).toBeGreaterThan(150e6);
    expect(await context()).toBe(8192);
    const same = await chat([{ role: 'user', content: 'hi' }], { num_ctx: 8192 });
    expect(same.load_duration).toBeLessThan(50e6);
    // A request that leaves num_ctx out keeps whatever the runner has.
    expect((await chat([{ role: 'user', content: 'hi' }])).load_duration).toBeLessThan(50e6);
  });
});
