import { describe, expect, it } from 'vitest';
import { type AdviceMachine, adviseHome, adviseModel, estimateModelBytes, memoryFit } from '../src/index.js';
import { GB } from './fixtures.js';

/** The home: an office PC with a GPU, a 16 GB kitchen mini-PC without one. */
function office(extra: Partial<AdviceMachine> = {}): AdviceMachine {
  return {
    id: 'o',
    name: 'office',
    ramTotalBytes: 32 * GB,
    ramFreeBytes: 24 * GB,
    gpuCount: 1,
    vramTotalBytes: 24 * GB,
    vramFreeBytes: 21 * GB,
    models: [],
    ...extra,
  };
}
function kitchen(extra: Partial<AdviceMachine> = {}): AdviceMachine {
  return {
    id: 'k',
    name: 'kitchen',
    ramTotalBytes: 16 * GB,
    ramFreeBytes: 3 * GB,
    gpuCount: 0,
    vramTotalBytes: 0,
    vramFreeBytes: 0,
    models: [{ name: 'llama3.2:3b', sizeBytes: 2 * GB, loaded: false }],
    ...extra,
  };
}
const catalogue = [
  { name: 'llama3.1:8b', sizeBytes: 4.9 * GB, parameterSize: '8.0B' },
  { name: 'llama3.2:3b', sizeBytes: 2 * GB, parameterSize: '3.2B' },
  { name: 'nomic-embed-text:latest', sizeBytes: 0.27 * GB, family: 'nomic-bert' },
];

describe('placement advice', () => {
  it('should put a model on the machine with the free VRAM and offer the small box a model it can run', () => {
    const advice = adviseModel(
      { name: 'llama3.1:8b', sizeBytes: 4.9 * GB },
      [kitchen(), office()],
      catalogue,
    );
    expect(advice.best).toEqual({ id: 'o', name: 'office' });
    expect(advice.machines.map((m) => [m.name, m.verdict])).toEqual([
      ['office', 'fits'],
      ['kitchen', 'not-now'],
    ]);
    expect(advice.machines[1]!.alternative).toBe('llama3.2:3b');
    expect(advice.text).toBe(
      'llama3.1:8b needs ~5.9 GB; office has 21 GB free and a GPU: put it there. Kitchen (16 GB, no GPU) is better with llama3.2:3b.',
    );
    expect(advice.warnings).toEqual([]);
  });

  it('should warn that a model larger than a box would freeze it, and say when no machine fits', () => {
    const advice = adviseModel({ name: 'llama3.1:70b' }, [kitchen(), office()], catalogue);
    expect(advice.sizeSource).toBe('estimated');
    expect(advice.sizeBytes).toBe(70 * 0.6 * GB);
    expect(advice.best).toBeUndefined();
    expect(advice.machines.every((m) => m.verdict === 'too-big')).toBe(true);
    expect(advice.warnings).toEqual([
      'llama3.1:70b does not fit the GPU of office: it needs ~50 GB and the GPU has 24 GB of VRAM, so most of it would run from RAM, slowly.',
      'Pulling llama3.1:70b onto kitchen would freeze it: it needs ~50 GB and kitchen has 16 GB of RAM.',
    ]);
    expect(advice.text).toContain('no machine has that free (the most is 21 GB on office)');
  });

  it('should count the memory of other loaded models as room, with the same rule as the router', () => {
    const busy = kitchen({
      ramFreeBytes: 1 * GB,
      models: [
        { name: 'llama3.2:3b', sizeBytes: 2 * GB, loaded: false },
        { name: 'qwen2.5:7b', sizeBytes: 4.7 * GB, loaded: true },
      ],
    });
    const advice = adviseModel({ name: 'llama3.2:3b' }, [busy], catalogue);
    expect(advice.machines[0]!.verdict).toBe('fits-after-unload');
    expect(advice.machines[0]!.fit).toEqual(
      memoryFit(
        { memory: { ramFreeBytes: 1 * GB, vramFreeBytes: 0, gpuCount: 0 }, models: busy.models },
        2 * GB,
        { except: 'llama3.2:3b' },
      ),
    );
    expect(advice.machines[0]!.fit.evictsBytes).toBeCloseTo(1.4 * GB);
    expect(advice.text).toBe(
      'llama3.2:3b needs ~2.4 GB; kitchen has 1.0 GB free: it is there already (loading it unloads other models).',
    );
  });

  it('should say a model is loaded where it already runs, and prefer that machine', () => {
    const machines = [
      office(),
      kitchen({ ramFreeBytes: 10 * GB, models: [{ name: 'llama3.2:3b', sizeBytes: 2 * GB, loaded: true }] }),
    ];
    const advice = adviseModel({ name: 'llama3.2:3b' }, machines, catalogue);
    expect(advice.sizeSource).toBe('home');
    expect(advice.best?.name).toBe('kitchen');
    expect(advice.machines[0]).toMatchObject({ name: 'kitchen', present: true, loaded: true });
    expect(advice.text).toBe('llama3.2:3b needs ~2.4 GB; kitchen has 10 GB free: it is loaded there.');
  });

  it('should prefer a machine that holds the model to an equal one that would have to pull it', () => {
    const twin = (id: string, models: AdviceMachine['models']) =>
      kitchen({ id, name: id, ramFreeBytes: 12 * GB, models });
    const advice = adviseModel({ name: 'llama3.2:3b' }, [
      twin('a', []),
      twin('b', [{ name: 'llama3.2:3b', sizeBytes: 2 * GB, loaded: false }]),
    ]);
    expect(advice.best?.name).toBe('b');
    expect(advice.text).toBe('llama3.2:3b needs ~2.4 GB; b has 12 GB free: it is there already.');
  });

  it('should estimate sizes from the tag and refuse to guess without one', () => {
    expect(estimateModelBytes({ name: 'qwen2.5:0.5b' })).toBeCloseTo(0.3 * GB);
    expect(estimateModelBytes({ name: 'gemma2:27b-instruct-q4_K_M' })).toBeCloseTo(16.2 * GB);
    expect(estimateModelBytes({ name: 'mystery:latest' })).toBeUndefined();
    const advice = adviseModel({ name: 'mystery' }, [office()], []);
    expect(advice.sizeSource).toBe('unknown');
    expect(advice.best).toBeUndefined();
    expect(advice.warnings).toEqual([]);
  });

  it('should advise on every model of the home, largest first', () => {
    const all = adviseHome([office(), kitchen()], catalogue);
    expect(all.map((a) => a.model)).toEqual(['llama3.1:8b', 'llama3.2:3b', 'nomic-embed-text:latest']);
  });
});
