import type { HardwareInfo, ModelInfo } from '@allerac/protocol';
import { describe, expect, it } from 'vitest';
import type { ModelTarget } from '../src/inference/model-management.js';
import { type HomeMachineCard, HomeModelsService, LastCopyError } from '../src/models/home-models.js';

const GB = 1e9;
const hardware = (extra: Partial<HardwareInfo> = {}): HardwareInfo => ({
  cpuModel: 'x',
  cores: 4,
  ramTotal: 16 * GB,
  ramFree: 8 * GB,
  gpus: [],
  diskFree: 100 * GB,
  ...extra,
});
const model = (name: string, sizeGB: number, loaded = false): ModelInfo => ({
  name,
  sizeBytes: sizeGB * GB,
  family: 'llama',
  parameterSize: '',
  quantization: 'Q4_K_M',
  loaded,
});

/** Two machines; deletes are recorded, not run (the components are the service's edges). */
function service(transfers: Array<Record<string, unknown>> = []) {
  const cards: HomeMachineCard[] = [
    {
      id: 'a',
      name: 'alice',
      self: true,
      backendUp: true,
      hardware: hardware(),
      models: [model('llama3.2:3b', 2, true)],
    },
    {
      id: 'b',
      name: 'bob',
      self: false,
      backendUp: true,
      hardware: hardware(),
      models: [model('mistral:7b', 4.4)],
    },
  ];
  const deleted: Array<[string, string]> = [];
  const home = new HomeModelsService({
    machines: async () => cards,
    transfers: async () => transfers as never,
    models: {
      resolve: (node): ModelTarget =>
        node === 'alice' ? { kind: 'local', name: 'alice' } : { kind: 'peer', id: 'b', name: 'bob' },
      complete: async (target, _action, body) => {
        deleted.push([target.name, String(body.model)]);
      },
    },
  });
  return { home, deleted };
}

describe('home models service', () => {
  it("should show a copy under way in its machine's cell, and not one that ended", async () => {
    const { home } = service([
      {
        id: 't1',
        model: 'mistral:7b',
        target: 'alice',
        source: 'bob',
        completed: 1e9,
        total: 4.4e9,
        status: 'copying',
      },
      {
        id: 't2',
        model: 'llama3.2:3b',
        target: 'alice',
        source: 'internet',
        completed: 2e9,
        total: 2e9,
        status: 'done',
      },
    ]);
    const matrix = await home.list();
    const mistral = matrix.models.find((m) => m.name === 'mistral:7b')!;
    expect(mistral.cells[0]!.transfer).toEqual({
      id: 't1',
      source: 'bob',
      completed: 1e9,
      total: 4.4e9,
      status: 'copying',
    });
    expect(mistral.cells[1]!.transfer).toBeUndefined();
    expect(matrix.models.find((m) => m.name === 'llama3.2:3b')!.cells[0]!.transfer).toBeUndefined();
  });

  it('should read a failing transfer source as no transfers rather than fail the matrix', async () => {
    const home = new HomeModelsService({
      machines: async () => [],
      transfers: async () => {
        throw new Error('down');
      },
      models: { resolve: () => ({ kind: 'local', name: 'x' }), complete: async () => {} },
    });
    expect(await home.list()).toEqual({ machines: [], models: [] });
  });

  it("should refuse the home's last copy without confirm and delete a model another machine holds", async () => {
    const { home, deleted } = service();
    await expect(home.delete('mistral:7b', 'bob', false, AbortSignal.timeout(1000))).rejects.toBeInstanceOf(
      LastCopyError,
    );
    expect(deleted).toEqual([]);
    expect(await home.delete('mistral:7b', 'bob', true, AbortSignal.timeout(1000))).toEqual({
      model: 'mistral:7b',
      node: 'bob',
      copiesLeft: 0,
    });
    expect(deleted).toEqual([['bob', 'mistral:7b']]);
  });
});
