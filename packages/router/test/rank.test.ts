import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Candidate, type Placement, rankCandidates, type Task, UnknownNodeError } from '../src/index.js';
import { GB, gpuNode, model, NOW, node } from './fixtures.js';

const task = (extra: Partial<Task> = {}): Task => ({
  model: 'llama3.2:3b',
  maxTokens: 200,
  now: NOW,
  ...extra,
});
const order = (ranked: Placement[]) => ranked.map((p) => `${p.nodeId}:${p.eligible ? 'ok' : 'no'}`);

describe('rankCandidates: memory Ollama frees by unloading', () => {
  it('should keep a node whose free memory is short only by what an idle model holds, and say so', () => {
    // An 8 GB card with the 8B loaded: the coder does not fit beside it, but Ollama unloads the 8B.
    const desktop = gpuNode('desktop', {
      models: [model('llama3.1:8b', 4.9), model('qwen2.5-coder:7b', 4.7, { loaded: false })],
      memory: { ramFreeBytes: 16 * GB, vramFreeBytes: 3.7 * GB, gpuCount: 1 },
    });
    const [placement] = rankCandidates(task({ model: 'qwen2.5-coder:7b' }), [desktop]);
    expect(placement!.eligible).toBe(true);
    expect(placement!.reason).toMatch(
      /^not loaded \(\+[\d.]+ s to load at [\d.]+ GB\/s guessed\); unloads ~1\.9 GB of other models to fit; /,
    );
  });
});

describe('rankCandidates: exclusions', () => {
  const cases: Array<{ name: string; candidate: Candidate; task?: Partial<Task>; reason: RegExp }> = [
    {
      name: 'a model that does not fit free RAM',
      candidate: node('mini', {
        models: [model('llama3.1:8b', 4.25, { loaded: false })],
        memory: { ramFreeBytes: 3.2 * GB, vramFreeBytes: 0, gpuCount: 0 },
      }),
      task: { model: 'llama3.1:8b' },
      reason: /^excluded: needs ~5\.1 GB, 3\.2 GB free$/,
    },
    {
      name: 'a model that does not fit free VRAM even with RAM to spare',
      candidate: gpuNode('gpu', {
        models: [model('llama3.1:70b', 40, { loaded: false })],
        memory: { ramFreeBytes: 64 * GB, vramFreeBytes: 24 * GB, gpuCount: 1 },
      }),
      task: { model: 'llama3.1:70b' },
      reason: /^excluded: needs ~48\.0 GB, 24\.0 GB free \(VRAM\)$/,
    },
    {
      name: 'a model larger than free VRAM and every other loaded model together',
      candidate: gpuNode('gpu', {
        models: [model('llama3.1:70b', 40, { loaded: false }), model('llama3.1:8b', 4.9)],
        memory: { ramFreeBytes: 64 * GB, vramFreeBytes: 19 * GB, gpuCount: 1 },
      }),
      task: { model: 'llama3.1:70b' },
      reason: /^excluded: needs ~48\.0 GB, 19\.0 GB free \(VRAM\) and 4\.9 GB in other models$/,
    },
    { name: 'a gone node', candidate: node('gone', { status: 'gone' }), reason: /^excluded: node gone$/ },
    {
      name: 'a down backend',
      candidate: node('down', { backendUp: false }),
      reason: /^excluded: backend down$/,
    },
    {
      name: 'a stale card',
      candidate: node('stale', { cardIssuedAt: NOW - 45_000 }),
      reason: /^excluded: card stale \(45\.0 s old, limit 30\.0 s\)$/,
    },
    {
      name: 'a node without the model',
      candidate: node('other', { models: [model('qwen2.5:7b', 4.7)] }),
      reason: /^excluded: llama3\.2:3b not installed$/,
    },
  ];
  for (const c of cases) {
    it(`should exclude ${c.name} with an explicit reason`, () => {
      const healthy = node('zz-healthy', { models: [model(c.task?.model ?? 'llama3.2:3b', 2)] });
      const ranked = rankCandidates(task(c.task), [c.candidate, healthy]);
      expect(order(ranked)).toEqual(['zz-healthy:ok', `${c.candidate.id}:no`]);
      expect(ranked[1]!.reason).toMatch(c.reason);
      expect(ranked[1]!.score).toBe(Number.POSITIVE_INFINITY);
    });
  }

  it('should allow a model that does not fit when it is already loaded there', () => {
    const mini = node('mini', {
      models: [model('llama3.1:8b', 4.25, { loaded: true })],
      memory: { ramFreeBytes: 0.5 * GB, vramFreeBytes: 0, gpuCount: 0 },
    });
    const [entry] = rankCandidates(task({ model: 'llama3.1:8b' }), [mini]);
    expect(entry!.eligible).toBe(true);
    expect(entry!.reason).toMatch(
      /^loaded; queue 0\/1; prompt 256 tok at ~60 tok\/s guessed \(\+4\.3 s\); ~\d+ tok\/s guessed \(\+[\d.]+ s to generate\); rtt 5 ms; est\. [\d.]+ s$/,
    );
  });

  it('should exempt the local node from staleness', () => {
    const local = node('local', { isLocal: true, cardIssuedAt: NOW - 10 * 60_000 });
    expect(rankCandidates(task(), [local])[0]!.eligible).toBe(true);
  });

  it('should honour a custom stale threshold', () => {
    const peer = node('peer', { cardIssuedAt: NOW - 10_000 });
    expect(rankCandidates(task(), [peer], { staleCardMs: 5_000 })[0]!.eligible).toBe(false);
  });

  it('should add the load time and say so when the model is not loaded', () => {
    const cold = node('cold', { models: [model('llama3.2:3b', 2, { loaded: false })] });
    const warm = node('warm');
    const ranked = rankCandidates(task(), [cold, warm]);
    expect(order(ranked)).toEqual(['warm:ok', 'cold:ok']);
    expect(ranked[1]!.reason).toContain('not loaded (+2.0 s to load at 1.0 GB/s guessed)');
    expect(ranked[1]!.estimateMs - ranked[0]!.estimateMs).toBeCloseTo(2000, 0);
  });
});

describe('rankCandidates: estimates and trade-offs', () => {
  it('should prefer a busy fast node over an idle slow one while its queue is short', () => {
    const gpu = gpuNode('gpu', { load: { activeTasks: 4, queueDepth: 1, slots: 4 } });
    const cpu = node('cpu');
    const ranked = rankCandidates(task(), [cpu, gpu]);
    expect(order(ranked)).toEqual(['gpu:ok', 'cpu:ok']);
    expect(ranked[0]!.reason).toContain('queue 5/4');
  });

  it('should switch to the idle slow node once the fast node queues deeply', () => {
    const gpu = gpuNode('gpu', { load: { activeTasks: 4, queueDepth: 60, slots: 4 } });
    const cpu = node('cpu');
    expect(order(rankCandidates(task(), [gpu, cpu]))).toEqual(['cpu:ok', 'gpu:ok']);
  });

  it('should use measured throughput and TTFT over the guesses and say so', () => {
    const a = node('a', {
      measured: { perModel: { 'llama3.2:3b': { tokensPerSecond: 58, ttftMs: 100 } }, recentFailures: 0 },
    });
    const [entry] = rankCandidates(task({ maxTokens: 100 }), [a]);
    expect(entry!.reason).toContain('~58 tok/s measured');
    // 100 ms TTFT + 100 tokens at 58 tok/s + 5 ms default RTT.
    expect(entry!.estimateMs).toBeCloseTo(100 + (100 / 58) * 1000 + 5, 3);
  });

  it('should count the measured RTT for remote nodes only', () => {
    const remote = node('remote', { measured: { rttMs: 50, perModel: {}, recentFailures: 0 } });
    const local = node('local', { isLocal: true, measured: { rttMs: 50, perModel: {}, recentFailures: 0 } });
    const ranked = rankCandidates(task(), [remote, local]);
    expect(order(ranked)).toEqual(['local:ok', 'remote:ok']);
    expect(ranked[1]!.estimateMs - ranked[0]!.estimateMs).toBeCloseTo(50, 6);
  });

  it('should break exact ties by node id whatever the input order', () => {
    const nodes = [node('charlie'), node('alice'), node('bob')];
    expect(order(rankCandidates(task(), nodes))).toEqual(['alice:ok', 'bob:ok', 'charlie:ok']);
    expect(order(rankCandidates(task(), [...nodes].reverse()))).toEqual(['alice:ok', 'bob:ok', 'charlie:ok']);
  });

  it('should penalise recent failures and let the penalty fade', () => {
    const measured = (lastFailureAt: number) => ({ perModel: {}, recentFailures: 2, lastFailureAt });
    const flaky = node('a-flaky', { measured: measured(NOW - 1_000) });
    const ranked = rankCandidates(task(), [flaky, node('b-steady')]);
    expect(order(ranked)).toEqual(['b-steady:ok', 'a-flaky:ok']);
    expect(ranked[1]!.reason).toMatch(/2 recent failure\(s\) \(\+\d+%\)/);
    expect(ranked[1]!.estimateMs).toBe(ranked[0]!.estimateMs);
    const long = node('a-flaky', { measured: measured(NOW - 3_600_000) });
    expect(order(rankCandidates(task(), [long, node('b-steady')]))[0]).toBe('a-flaky:ok');
  });

  it('should prefer a matching specialization over a modestly faster node', () => {
    const coder = node('coder', { specializations: ['code'] });
    const faster = node('faster', {
      measured: { perModel: { 'llama3.2:3b': { tokensPerSecond: 15 } }, recentFailures: 0 },
    });
    expect(order(rankCandidates(task(), [coder, faster]))[0]).toBe('faster:ok');
    const ranked = rankCandidates(task({ specialization: 'code' }), [coder, faster]);
    expect(order(ranked)[0]).toBe('coder:ok');
    expect(ranked[0]!.reason).toContain('specialization "code"');
  });

  it('should not let a specialization override memory fit', () => {
    const coder = node('coder', {
      specializations: ['code'],
      models: [model('llama3.1:8b', 4.9, { loaded: false })],
      memory: { ramFreeBytes: 2 * GB, vramFreeBytes: 0, gpuCount: 0 },
    });
    const ranked = rankCandidates(task({ model: 'llama3.1:8b', specialization: 'code' }), [
      coder,
      gpuNode('gpu'),
    ]);
    expect(order(ranked)).toEqual(['gpu:ok', 'coder:no']);
  });

  it('should not let a specialization beat a much faster node', () => {
    const coder = node('coder', { specializations: ['code'] });
    expect(order(rankCandidates(task({ specialization: 'code' }), [coder, gpuNode('gpu')]))[0]).toBe(
      'gpu:ok',
    );
  });
});

describe('rankCandidates: policies', () => {
  const local = node('kitchen', { isLocal: true });
  const gpu = gpuNode('office-id', { name: 'office' });

  it('should pick the fastest node under auto', () => {
    expect(order(rankCandidates(task(), [local, gpu]))).toEqual(['office-id:ok', 'kitchen:ok']);
  });

  it('should put the local node first under local-first when it is eligible', () => {
    const ranked = rankCandidates(task({ policy: { kind: 'local-first' } }), [local, gpu]);
    expect(order(ranked)).toEqual(['kitchen:ok', 'office-id:ok']);
    expect(ranked[0]!.reason).toMatch(/^local-first; /);
  });

  it('should fall back to auto under local-first when the local node is not eligible', () => {
    const down = node('kitchen', { isLocal: true, backendUp: false });
    const ranked = rankCandidates(task({ policy: { kind: 'local-first' } }), [down, gpu]);
    expect(order(ranked)).toEqual(['office-id:ok', 'kitchen:no']);
  });

  for (const pin of ['office', 'office-id', 'OFFICE']) {
    it(`should pin by name or id (${pin})`, () => {
      const ranked = rankCandidates(task({ policy: { kind: 'pin', node: pin } }), [local, gpu]);
      expect(order(ranked)).toEqual(['office-id:ok', 'kitchen:no']);
      expect(ranked[1]!.reason).toBe('excluded: pinned to office');
    });
  }

  it('should pin to a slower node even when a faster one is idle', () => {
    const ranked = rankCandidates(task({ policy: { kind: 'pin', node: 'kitchen' } }), [local, gpu]);
    expect(order(ranked)).toEqual(['kitchen:ok', 'office-id:no']);
  });

  it('should explain why a pinned node cannot serve', () => {
    const ranked = rankCandidates(task({ model: 'llama3.1:8b', policy: { kind: 'pin', node: 'kitchen' } }), [
      local,
      gpu,
    ]);
    expect(ranked.every((p) => !p.eligible)).toBe(true);
    expect(ranked.find((p) => p.nodeId === 'kitchen')!.reason).toBe('excluded: llama3.1:8b not installed');
  });

  it('should throw UnknownNodeError listing the nodes for an unknown pin', () => {
    expect(() =>
      rankCandidates(task({ policy: { kind: 'pin', node: 'garage' } }), [local, gpu]),
    ).toThrowError(new UnknownNodeError('garage', ['kitchen', 'office']));
    try {
      rankCandidates(task({ policy: { kind: 'pin', node: 'garage' } }), [local, gpu]);
    } catch (error) {
      expect(error).toBeInstanceOf(UnknownNodeError);
      expect((error as Error).name).toBe('UnknownNodeError');
      expect((error as Error).message).toBe('node "garage" is not in the mesh; known nodes: kitchen, office');
    }
  });

  it("should resolve auto among the pinned node's models", () => {
    const ranked = rankCandidates(task({ model: 'auto', policy: { kind: 'pin', node: 'kitchen' } }), [
      local,
      gpu,
    ]);
    expect(ranked[0]).toMatchObject({ nodeId: 'kitchen', model: 'llama3.2:3b', eligible: true });
  });

  it('should be deterministic: the same input gives the same output', () => {
    const nodes = [local, gpu, node('mini-2'), node('stale', { cardIssuedAt: 0 })];
    expect(rankCandidates(task(), nodes)).toEqual(rankCandidates(task(), nodes));
  });
});

describe('rankCandidates: properties', () => {
  const arbitraryNode = fc.record({
    id: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
    status: fc.constantFrom('online' as const, 'online' as const, 'gone' as const),
    backendUp: fc.boolean(),
    age: fc.integer({ min: 0, max: 60_000 }),
    loaded: fc.boolean(),
    free: fc.double({ min: 0, max: 8, noNaN: true }),
    active: fc.integer({ min: 0, max: 8 }),
    queued: fc.integer({ min: 0, max: 8 }),
    slots: fc.integer({ min: 1, max: 4 }),
    failures: fc.integer({ min: 0, max: 3 }),
    tps: fc.option(fc.double({ min: 1, max: 200, noNaN: true }), { nil: undefined }),
  });
  const build = (r: typeof arbitraryNode extends fc.Arbitrary<infer T> ? T : never): Candidate =>
    node(r.id, {
      status: r.status,
      backendUp: r.backendUp,
      cardIssuedAt: NOW - r.age,
      models: [model('llama3.2:3b', 2, { loaded: r.loaded })],
      memory: { ramFreeBytes: r.free * GB, vramFreeBytes: 0, gpuCount: 0 },
      load: { activeTasks: r.active, queueDepth: r.queued, slots: r.slots },
      measured: {
        perModel: r.tps === undefined ? {} : { 'llama3.2:3b': { tokensPerSecond: r.tps } },
        recentFailures: r.failures,
        lastFailureAt: NOW,
      },
    });

  it('should return every candidate once, eligible first, sorted, whatever the input order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(arbitraryNode, { selector: (r) => r.id, minLength: 1, maxLength: 6 }),
        (records) => {
          const nodes = records.map(build);
          // With every node gone the model is nowhere: the ModelNotFoundError case, tested elsewhere.
          fc.pre(nodes.some((n) => n.status === 'online'));
          const ranked = rankCandidates(task(), nodes);
          expect(ranked.map((p) => p.nodeId).sort()).toEqual(nodes.map((n) => n.id).sort());
          const firstExcluded = ranked.findIndex((p) => !p.eligible);
          if (firstExcluded >= 0) expect(ranked.slice(firstExcluded).every((p) => !p.eligible)).toBe(true);
          for (let i = 1; i < ranked.length; i++) {
            if (ranked[i]!.eligible) expect(ranked[i - 1]!.score).toBeLessThanOrEqual(ranked[i]!.score);
          }
          for (const p of ranked) {
            expect(p.reason.length).toBeGreaterThan(0);
            if (p.eligible) expect(Number.isFinite(p.estimateMs)).toBe(true);
            const n = nodes.find((c) => c.id === p.nodeId)!;
            // Memory fit: an unloaded model never lands where it does not fit.
            if (p.eligible && !n.models[0]!.loaded)
              expect(2 * GB * 1.2).toBeLessThanOrEqual(n.memory.ramFreeBytes);
          }
          expect(rankCandidates(task(), [...nodes].reverse())).toEqual(ranked);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('rankCandidates: load, prompt and affinity', () => {
  const big = (loaded: boolean) => [model('qwen2.5:14b', 7, { loaded })];
  // A GPU box that must load 7 GB at 0.3 GB/s (23 s) against a warm mini-PC at 12 tok/s.
  const gpuCold = gpuNode('gpu', {
    models: big(false),
    measured: { perModel: {}, loadBytesPerSecond: 0.3 * GB, recentFailures: 0 },
  });
  const miniWarm = node('mini', {
    models: big(true),
    memory: { ramFreeBytes: 16 * GB, vramFreeBytes: 0, gpuCount: 0 },
    measured: { perModel: { 'qwen2.5:14b': { tokensPerSecond: 12 } }, recentFailures: 0 },
  });

  it('should prefer a warm slower node when loading would dominate, and the cold faster one when it would not', () => {
    const short = task({ model: 'qwen2.5:14b', promptTokens: 50, maxTokens: 100 });
    expect(order(rankCandidates(short, [gpuCold, miniWarm]))).toEqual(['mini:ok', 'gpu:ok']);
    const long = task({ model: 'qwen2.5:14b', promptTokens: 50, maxTokens: 1000 });
    expect(order(rankCandidates(long, [gpuCold, miniWarm]))).toEqual(['gpu:ok', 'mini:ok']);
  });

  it('should send a long prompt to the GPU even when both are warm', () => {
    const gpu = gpuNode('gpu', { models: big(true) });
    const long = task({ model: 'qwen2.5:14b', promptTokens: 3000, maxTokens: 50 });
    const [first] = rankCandidates(long, [miniWarm, gpu]);
    expect(first!.nodeId).toBe('gpu');
    expect(first!.terms!.promptEvalMs).toBeCloseTo(1500, 6);
  });

  it('should keep a conversation on its node while the cache saves more than moving, and drop it when busy', () => {
    const other = { ...miniWarm, id: 'mini-2', name: 'mini-2' };
    const turn = task({
      model: 'qwen2.5:14b',
      promptTokens: 3000,
      maxTokens: 20,
      affinity: { nodeId: 'mini', cachedTokens: 2980 },
    });
    const [kept] = rankCandidates(turn, [other, miniWarm]);
    expect(kept!.nodeId).toBe('mini');
    expect(kept!.reason).toContain('2980 cached from the last turn');
    // One request ahead costs less than re-evaluating 2,980 tokens elsewhere; thirty do not.
    const waitOne = { ...miniWarm, load: { activeTasks: 1, queueDepth: 0, slots: 1 } };
    expect(rankCandidates(turn, [other, waitOne])[0]!.nodeId).toBe('mini');
    const busy = { ...miniWarm, load: { activeTasks: 1, queueDepth: 30, slots: 1 } };
    expect(rankCandidates(turn, [other, busy])[0]!.nodeId).toBe('mini-2');
    expect(rankCandidates(turn, [{ ...miniWarm, status: 'gone' as const }, other])[0]!.nodeId).toBe('mini-2');
  });

  it('should expose every term of the estimate on an eligible placement', () => {
    const [first] = rankCandidates(task({ model: 'qwen2.5:14b' }), [gpuCold]);
    expect(first!.terms).toMatchObject({ loadState: 'not loaded', loadSource: 'measured' });
  });
});
