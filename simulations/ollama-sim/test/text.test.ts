import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { embedText, expectedAnswer } from '../src/index.js';
import { parseKeepAlive } from '../src/keep-alive.js';
import { SlotScheduler } from '../src/scheduler.js';
import { answerTokens, tokensToEmit } from '../src/text.js';

describe('deterministic text', () => {
  it('should be a pure function of model, conversation and num_predict', () => {
    const messages = [{ role: 'user', content: 'hello' }];
    expect(expectedAnswer('llama3.2:3b', messages)).toBe(expectedAnswer('llama3.2:3b', messages));
    expect(expectedAnswer('llama3.2', messages)).toBe(expectedAnswer('llama3.2:3b', messages));
    expect(expectedAnswer('llama3.2:3b', [...messages, { role: 'assistant', content: 'whatever' }])).toBe(
      expectedAnswer('llama3.2:3b', messages),
    );
  });

  it('should keep default answers between 20 and about 60 tokens, ending a sentence', () => {
    for (let i = 0; i < 200; i++) {
      const tokens = answerTokens('llama3.2:3b', [{ role: 'user', content: `question ${i}` }]);
      expect(tokens.length).toBeGreaterThanOrEqual(20);
      expect(tokens.length).toBeLessThanOrEqual(62);
      expect(tokens.at(-1)!.endsWith('.')).toBe(true);
    }
  });

  it('should continue any prefix of the answer to exactly the full answer', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 120 }), fc.nat(), (content, numPredict, cutSeed) => {
        const messages = [{ role: 'user', content }];
        const full = expectedAnswer('llama3.1:8b', messages, numPredict);
        const prefix = full.slice(0, cutSeed % (full.length + 1));
        const rest = tokensToEmit(
          'llama3.1:8b',
          [...messages, { role: 'assistant', content: prefix }],
          numPredict,
        );
        expect(prefix + rest.join('')).toBe(full);
      }),
      { numRuns: 200 },
    );
  });

  it('should answer afresh when the assistant prefix is not the model own answer', () => {
    const messages = [{ role: 'user', content: 'hi' }];
    const tokens = tokensToEmit('llama3.2:3b', [
      ...messages,
      { role: 'assistant', content: 'Something else' },
    ]);
    expect(tokens.length).toBeGreaterThan(0);
  });
});

describe('embedText', () => {
  it('should be unit length, deterministic and sized to the model', () => {
    const v = embedText('Hello hello world', 768);
    expect(v).toHaveLength(768);
    expect(Math.hypot(...v)).toBeCloseTo(1, 9);
    expect(embedText('hello HELLO world!', 768)).toEqual(v);
    expect(embedText('', 16).every((x) => x === 0)).toBe(true);
  });
});

describe('keep_alive', () => {
  it('should parse numbers as seconds and Go durations', () => {
    expect(parseKeepAlive(undefined)).toBeUndefined();
    expect(parseKeepAlive(0)).toBe(0);
    expect(parseKeepAlive(30)).toBe(30_000);
    expect(parseKeepAlive('5m')).toBe(300_000);
    expect(parseKeepAlive('1h30m')).toBe(5_400_000);
    expect(parseKeepAlive('0')).toBe(0);
    expect(parseKeepAlive(-1)).toBe(Number.POSITIVE_INFINITY);
    expect(parseKeepAlive('-1m')).toBe(Number.POSITIVE_INFINITY);
    expect(() => parseKeepAlive('soon')).toThrow(/invalid duration/);
    expect(() => parseKeepAlive('10')).toThrow(/missing unit/);
  });
});

describe('SlotScheduler', () => {
  it('should grant slots, queue in order, reject past the limit and hand slots over', async () => {
    const scheduler = new SlotScheduler(
      () => 1,
      () => 2,
    );
    const a = scheduler.acquire()!;
    const b = scheduler.acquire()!;
    const c = scheduler.acquire()!;
    expect(scheduler.acquire()).toBeUndefined();
    expect(scheduler.active).toBe(1);
    expect(scheduler.queued).toBe(2);
    const order: string[] = [];
    void b.ready.then(() => order.push('b'));
    void c.ready.then(() => order.push('c'));
    c.release(); // leaves the queue without ever holding a slot
    expect(scheduler.queued).toBe(1);
    a.release();
    a.release();
    await b.ready;
    expect(order).toEqual(['b']);
    expect(scheduler.active).toBe(1);
    b.release();
    expect(scheduler.active).toBe(0);
  });
});
