import { describe, expect, it } from 'vitest';
import {
  AmbiguousModelError,
  listMeshModels,
  ModelNotFoundError,
  normalizeModelName,
  parameterBillions,
  rankCandidates,
  resolveModel,
} from '../src/index.js';
import { GB, gpuNode, model, NOW, node } from './fixtures.js';

const mesh = [
  gpuNode('gpu'),
  node('mini-1', {
    models: [model('llama3.2:3b', 2), model('qwen2.5:latest', 4.7), model('nomic-embed-text:latest', 0.27)],
  }),
  node('mini-2', {
    models: [model('llama3.2:3b', 2), model('phi3:mini', 2.2), model('phi3:medium', 7.9, { loaded: false })],
  }),
];

describe('resolveModel', () => {
  const cases: Array<{ name: string; input: string; expected: string }> = [
    { name: 'an exact tag', input: 'llama3.1:8b', expected: 'llama3.1:8b' },
    { name: 'a short name with a :latest tag', input: 'qwen2.5', expected: 'qwen2.5:latest' },
    { name: 'a short name with a single installed tag', input: 'llama3.1', expected: 'llama3.1:8b' },
    { name: 'mixed case and the library prefix', input: 'Library/LLAMA3.2:3B', expected: 'llama3.2:3b' },
    {
      name: 'the full registry name',
      input: 'registry.ollama.ai/library/llama3.2:3b',
      expected: 'llama3.2:3b',
    },
  ];
  for (const c of cases) {
    it(`should resolve ${c.name}`, () => {
      expect(resolveModel(c.input, mesh)).toBe(c.expected);
    });
  }

  it('should reject an ambiguous short name and list the tags', () => {
    expect(() => resolveModel('phi3', mesh)).toThrowError(AmbiguousModelError);
    expect(() => resolveModel('phi3', mesh)).toThrowError(
      'model "phi3" is ambiguous in the mesh; use one of: phi3:medium, phi3:mini',
    );
  });

  it('should throw ModelNotFoundError listing what the mesh has', () => {
    const error = (() => {
      try {
        resolveModel('mistral', mesh);
      } catch (e) {
        return e as ModelNotFoundError;
      }
      throw new Error('expected a throw');
    })();
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect(error.name).toBe('ModelNotFoundError');
    expect(error.message).toBe(
      'model "mistral" not found in the mesh; available: llama3.1:8b, llama3.2:3b, nomic-embed-text:latest, phi3:medium, phi3:mini, qwen2.5:latest',
    );
    expect(error.available).toHaveLength(6);
  });

  it('should not match a tag that is not installed', () => {
    expect(() => resolveModel('llama3.2:1b', mesh)).toThrowError(ModelNotFoundError);
  });

  it('should ignore models of gone nodes but keep those of nodes whose backend is down', () => {
    const gone = [node('a', { status: 'gone', models: [model('mistral:7b', 4)] })];
    expect(() => resolveModel('mistral', gone)).toThrowError(
      'model "mistral" not found in the mesh; available: (none)',
    );
    const down = [node('a', { backendUp: false, models: [model('mistral:7b', 4)] })];
    expect(resolveModel('mistral', down)).toBe('mistral:7b');
  });

  it('should make rankCandidates fail the same way for an unknown model', () => {
    expect(() => rankCandidates({ model: 'mistral', now: NOW }, mesh)).toThrowError(ModelNotFoundError);
  });
});

describe('resolveModel: auto', () => {
  it('should pick the largest chat model that can run somewhere', () => {
    // phi3:medium (14B by size) is not loaded and fits nowhere with the margin: 7.9 GB * 1.2 > 8 GB.
    const nodes = [
      ...mesh.slice(0, 2),
      node('mini-2', { models: [model('phi3:medium', 7.9, { loaded: false, parameterSize: '14B' })] }),
    ];
    expect(resolveModel('auto', nodes)).toBe('llama3.1:8b');
  });

  it('should take a loaded large model even when it would not fit again', () => {
    const nodes = [
      node('mini', {
        models: [model('phi3:medium', 7.9, { parameterSize: '14B' }), model('llama3.2:3b', 2)],
      }),
    ];
    expect(resolveModel('AUTO', nodes)).toBe('phi3:medium');
  });

  it('should never pick an embedding model', () => {
    const nodes = [
      node('a', {
        models: [
          model('big-embed:latest', 6, { parameterSize: '7B' }),
          model('bge-m3:latest', 1.2, { family: 'bert', parameterSize: '567M' }),
          model('gemma3:1b', 0.8, { capabilities: ['completion'] }),
          model('qwen3-embedding:8b', 4.7, { capabilities: ['embedding'] }),
        ],
      }),
    ];
    expect(resolveModel('auto', nodes)).toBe('gemma3:1b');
  });

  it('should throw when no chat model can run', () => {
    const nodes = [node('a', { models: [model('nomic-embed-text:latest', 0.27)] })];
    expect(() => resolveModel('auto', nodes)).toThrowError(ModelNotFoundError);
  });

  it('should rank with the model auto resolved to', () => {
    const ranked = rankCandidates({ model: 'auto', now: NOW }, mesh);
    expect(ranked.every((p) => p.model === 'llama3.1:8b')).toBe(true);
    expect(ranked[0]!.nodeId).toBe('gpu');
  });
});

describe('listMeshModels', () => {
  it('should list every servable model once, sorted, with where it is installed and loaded', () => {
    const nodes = [
      ...mesh,
      node('down', { backendUp: false, models: [model('mistral:7b', 4)] }),
      node('mini-3', { models: [model('llama3.2:3b', 2, { loaded: false })] }),
    ];
    const models = listMeshModels(nodes);
    expect(models.map((m) => m.name)).toEqual([
      'llama3.1:8b',
      'llama3.2:3b',
      'nomic-embed-text:latest',
      'phi3:medium',
      'phi3:mini',
      'qwen2.5:latest',
    ]);
    const llama = models.find((m) => m.name === 'llama3.2:3b')!;
    expect(llama.nodeIds).toEqual(['gpu', 'mini-1', 'mini-2', 'mini-3']);
    expect(llama.loadedOn).toEqual(['gpu', 'mini-1', 'mini-2']);
    expect(llama.sizeBytes).toBe(2 * GB);
  });
});

describe('model name helpers', () => {
  it('should normalise names the way Ollama does', () => {
    expect(normalizeModelName('llama3.2')).toBe('llama3.2:latest');
    expect(normalizeModelName('myhost:5000/team/model')).toBe('myhost:5000/team/model:latest');
    expect(normalizeModelName('team/model:q4')).toBe('team/model:q4');
  });

  it('should read parameter sizes and fall back to the size on disk', () => {
    expect(parameterBillions({ parameterSize: '8.0B', sizeBytes: 1 })).toBe(8);
    expect(parameterBillions({ parameterSize: '567M', sizeBytes: 1 })).toBeCloseTo(0.567);
    expect(parameterBillions({ sizeBytes: 6 * GB })).toBeCloseTo(10);
  });
});
