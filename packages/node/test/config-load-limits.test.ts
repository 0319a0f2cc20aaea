import { describe, expect, it } from 'vitest';
import { ConfigError, resolveStartConfig } from '../src/config.js';
import { DEFAULT_SLOTS } from '../src/inference/local-load.js';

const resolve = (env: NodeJS.ProcessEnv) => resolveStartConfig({ name: 'kitchen', dataDir: '/tmp/x' }, env);

describe('config: how many generations the node runs and queues', () => {
  it("should queue as many requests as Ollama's OLLAMA_MAX_QUEUE default (512) unless told otherwise", () => {
    const config = resolve({});
    expect(config.maxQueue).toBe(512);
    expect(config.numParallel).toBe(DEFAULT_SLOTS);
  });

  it('should take ALLERAC_NUM_PARALLEL and ALLERAC_MAX_QUEUE, and refuse what is not a whole number in range', () => {
    const config = resolve({ ALLERAC_NUM_PARALLEL: '8', ALLERAC_MAX_QUEUE: '0' });
    expect(config.numParallel).toBe(8);
    expect(config.maxQueue).toBe(0);
    for (const bad of ['0', '-1', '2.5', 'four', '70000'])
      expect(() => resolve({ ALLERAC_NUM_PARALLEL: bad })).toThrow(ConfigError);
    for (const bad of ['-1', 'lots', '1e9'])
      expect(() => resolve({ ALLERAC_MAX_QUEUE: bad })).toThrow(ConfigError);
  });
});
