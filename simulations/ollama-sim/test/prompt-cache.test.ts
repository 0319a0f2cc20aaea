import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HardwareProfile, type OllamaSim, PROFILES, startOllamaSim } from '../src/index.js';
import { post, waitFor } from './helpers.js';

/**
 * Instant generation; prompt evaluation at 100,000 tokens/s with 1 ms of overhead, so the reported
 * prompt_eval_duration (computed, not measured) tells how many tokens were evaluated: 0.01 ms each.
 * A load takes 100 ms per GB.
 */
const quick: HardwareProfile = {
  ...PROFILES.fast!,
  name: 'quick',
  ttftMs: 1,
  promptEvalTokensPerSecond: 100_000,
  parallelSlots: 2,
  loadMsPerGB: 100,
};
/** Tokens evaluated, from prompt_eval_duration (ns) on the `quick` profile. */
const evaluated = (final: Final) => Math.round((final.prompt_eval_duration / 1e6 - quick.ttftMs) * 100);

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
  const doc = (name: string) => [
    { role: 'system', content: `You read long documents. ${name} `.repeat(100) },
    { role: 'user', content: 'Summarise it.' },
  ];
  const next = (opening: unknown[], first: Final, question: string) => [
    ...opening,
    { role: 'assistant', content: first.message.content },
    { role: 'user', content: question },
  ];

  beforeAll(async () => {
    sim = await startOllamaSim({ profile: quick, models: [model] });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('should evaluate only the new tokens of a next turn, yet count the whole prompt as Ollama does', async () => {
    const opening = doc('a');
    const first = await chat(opening);
    expect(first.prompt_eval_count).toBeGreaterThan(400);
    expect(evaluated(first)).toBe(first.prompt_eval_count);
    const second = await chat(next(opening, first, 'Shorter, please.'));
    // llm/llama_server.go: prompt_eval_count = cache_n + prompt_n, the full context.
    expect(second.prompt_eval_count).toBeGreaterThan(first.prompt_eval_count);
    expect(evaluated(second)).toBeGreaterThan(0);
    expect(evaluated(second)).toBeLessThan(20);
    // Another conversation shares nothing but the start token.
    const other = await chat([{ role: 'user', content: 'Something else entirely. '.repeat(50) }]);
    expect(evaluated(other)).toBe(other.prompt_eval_count);
  });

  it('should keep two conversations in two slots: an unrelated prompt takes the least recently used one', async () => {
    const a = doc('alpha');
    const b = doc('beta');
    const firstA = await chat(a);
    const firstB = await chat(b);
    // Both slots now hold a conversation; each next turn finds its own.
    expect(evaluated(await chat(next(a, firstA, 'And the second part?')))).toBeLessThan(20);
    expect(evaluated(await chat(next(b, firstB, 'And the second part?')))).toBeLessThan(20);
    // A third conversation evicts the least recently used (a's), not b's.
    const c = doc('gamma');
    await chat(c);
    const againB = await chat(next(b, firstB, 'And the third part?'));
    expect(evaluated(againB)).toBeLessThan(20);
    const againA = await chat(next(a, firstA, 'And the third part?'));
    expect(evaluated(againA)).toBe(againA.prompt_eval_count);
  });

  it('should not give a slot in use to another request: of two concurrent next turns, one finds the prefix', async () => {
    const slow = await startOllamaSim({ profile: { ...quick, tokensPerSecond: 200 }, models: [model] });
    try {
      const send = (messages: unknown[]) =>
        post(`${slow.url}/api/chat`, { model, messages, stream: false, options: { num_predict: 20 } }).then(
          (r) => r.json() as Promise<Final>,
        );
      const opening = doc('delta');
      const first = await send(opening);
      // Two slots, both free: the first request takes the one holding the prefix, the second the other.
      const both = await Promise.all([
        send(next(opening, first, 'One?')),
        send(next(opening, first, 'Two?')),
      ]);
      const counts = both.map(evaluated).sort((x, y) => x - y);
      expect(counts[0]).toBeLessThan(20);
      expect(counts[1]).toBeGreaterThan(400);
    } finally {
      await slow.close();
    }
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
    // A request that leaves num_ctx out asks for the default, and a runner loaded with an explicit
    // num_ctx is not "auto": Ollama reloads it (routes.go usesAutomaticNumCtx; sched.go needsReload).
    expect((await chat([{ role: 'user', content: 'hi' }])).load_duration).toBeGreaterThan(150e6);
    expect(await context()).toBe(4096);
    expect((await chat([{ role: 'user', content: 'hi' }], { num_ctx: 4096 })).load_duration).toBeLessThan(
      50e6,
    );
  });
});

describe('which model Ollama unloads to make room (server/sched.go)', () => {
  const models = ['llama3.2:3b', 'gemma3:4b', 'mistral:7b', 'llama3.1:8b'];
  const ps = async (sim: OllamaSim) =>
    ((await (await fetch(`${sim.url}/api/ps`)).json()) as { models: Array<{ name: string }> }).models
      .map((m) => m.name)
      .sort();
  const load = (sim: OllamaSim, model: string, keepAlive?: string) =>
    post(`${sim.url}/api/generate`, {
      model,
      ...(keepAlive !== undefined ? { keep_alive: keepAlive } : {}),
    }).then((r) => r.json());

  it('should hold at most OLLAMA_MAX_LOADED_MODELS (3 by default) even when memory would fit more', async () => {
    const sim = await startOllamaSim({ profile: { ...quick, memoryBytes: 1024 ** 4 }, models });
    try {
      for (const model of models.slice(0, 3)) await load(sim, model);
      expect(await ps(sim)).toHaveLength(3);
      await load(sim, 'llama3.1:8b');
      expect(await ps(sim)).toHaveLength(3);
      expect(await ps(sim)).toContain('llama3.1:8b');
    } finally {
      await sim.close();
    }
  });

  /**
   * sched.go processPending: a request that needs a runner unloaded (for room, or another num_ctx)
   * marks it to expire, waits for its requests to finish, and blocks every request behind it.
   */
  describe('a model in use is unloaded only after its requests finish', () => {
    // 8 GB: the 8B (4.9 GB) and the 7B (4.4 GB) do not fit together. The 8B generates at ~100
    // tokens/s here, so its 40-token answer streams for ~0.4 s.
    const slow: HardwareProfile = { ...quick, memoryBytes: 8e9, tokensPerSecond: 250, parallelSlots: 4 };
    /** Sends a streamed chat; resolves with when its first and last bytes arrived. */
    const timed = async (sim: OllamaSim, model: string, options: Record<string, unknown> = {}) => {
      const response = await post(`${sim.url}/api/chat`, {
        model,
        messages: [{ role: 'user', content: 'hi' }],
        options: { num_predict: 40, ...options },
      });
      let first: number | undefined;
      for await (const _ of response.body!) first ??= performance.now();
      return { first: first!, last: performance.now() };
    };
    const started = (sim: OllamaSim) =>
      waitFor(async () => {
        const ps = (await (await fetch(`${sim.url}/api/ps`)).json()) as { models: unknown[] };
        return ps.models.length > 0;
      });

    it('should start the other model only once the loaded one is idle, holding later requests behind it', async () => {
      const sim = await startOllamaSim({
        profile: slow,
        models: ['llama3.1:8b', 'mistral:7b'],
        preload: ['llama3.1:8b'],
      });
      try {
        const busy = timed(sim, 'llama3.1:8b');
        await started(sim);
        const other = timed(sim, 'mistral:7b');
        // Sent after the 7B's request: it cannot use the loaded 8B while the 7B waits for room.
        await waitFor(() => sim.stats().active >= 2);
        const behind = timed(sim, 'llama3.1:8b');
        const [b, o, h] = await Promise.all([busy, other, behind]);
        expect(o.first).toBeGreaterThanOrEqual(b.last);
        expect(h.first).toBeGreaterThanOrEqual(o.last);
      } finally {
        await sim.close();
      }
    });

    it('should reload for another num_ctx only once the requests on the old context finish', async () => {
      const sim = await startOllamaSim({ profile: slow, models: ['llama3.1:8b'], preload: ['llama3.1:8b'] });
      try {
        const busy = timed(sim, 'llama3.1:8b');
        await started(sim);
        const wider = timed(sim, 'llama3.1:8b', { num_ctx: 8192 });
        const [b, w] = await Promise.all([busy, wider]);
        expect(w.first).toBeGreaterThanOrEqual(b.last);
      } finally {
        await sim.close();
      }
    });
  });

  it('should unload the idle model with the shortest keep_alive first, not the least recently used', async () => {
    // 8 GB: the 3B (2.0 GB) and the 4B (3.3 GB) fit, the 7B (4.4 GB) needs one of them out.
    const sim = await startOllamaSim({ profile: { ...quick, memoryBytes: 8e9 }, models });
    try {
      await load(sim, 'gemma3:4b', '10m');
      await load(sim, 'llama3.2:3b', '1h');
      // gemma3:4b is now the most recently used: LRU would evict the 3B, Ollama the shorter keep_alive.
      await load(sim, 'gemma3:4b', '10m');
      await load(sim, 'mistral:7b');
      expect(await ps(sim)).toEqual(['llama3.2:3b', 'mistral:7b']);
    } finally {
      await sim.close();
    }
  });
});
