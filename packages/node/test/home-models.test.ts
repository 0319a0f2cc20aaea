import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HomeDeleted, HomeModels } from '../src/contract/models-home.js';
import { fixedSystem as machine } from './helpers/fixed-system.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const GB = 1e9;

describe('the home model manager API: every model against every machine, with advice', () => {
  let office: TestNode;
  let kitchen: TestNode;
  let kitchenId: string;
  let memberToken: string;

  const home = async (query = '') => {
    const response = await fetch(`${office.node.url}/allerac/v1/models/home${query}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as HomeModels;
    expect(Value.Errors(HomeModels, body).First()).toBeUndefined();
    return body;
  };
  const remove = (body: unknown) =>
    fetch(`${office.node.url}/allerac/v1/models/home/delete`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const kitchenHas = (model: string) =>
    office.node.mesh
      .peers()
      .some((p) => p.id === kitchenId && p.status === 'online' && p.models.includes(model));

  beforeAll(async () => {
    office = await startTestNode({
      name: 'office',
      sim: { profile: 'fast', models: ['llama3.2:3b', 'all-minilm:latest'], preload: ['llama3.2:3b'] },
      system: machine({
        ramTotal: 32 * GB,
        ramFree: 24 * GB,
        gpus: [{ model: 'RTX', vramTotal: 24 * GB, vramFree: 21 * GB }],
      }),
    });
    kitchen = await startTestNode({
      name: 'kitchen',
      sim: { profile: 'fast', models: ['llama3.2:3b', 'gemma3:4b', 'nomic-embed-text:latest'] },
      system: machine({ ramTotal: 16 * GB, ramFree: 3 * GB }),
      meshKeyFile: join(office.dataDir, 'mesh.key'),
      bootstrap: office.node.mesh.mesh.addresses(),
    });
    kitchenId = kitchen.node.mesh.mesh.peerId;
    await waitFor(() => kitchenHas('gemma3:4b'), 30_000, 'office to see the kitchen with its models');
    const { issueAdminToken } = await import('../src/auth/api-tokens.js');
    const admin = issueAdminToken(office.dataDir);
    const issued = await office.node.http.inject({
      method: 'POST',
      url: '/allerac/v1/tokens',
      headers: { authorization: `Bearer ${admin}` },
      payload: { name: 'kid', role: 'member' },
    });
    memberToken = issued.json().token as string;
  }, 60_000);
  afterAll(async () => {
    await kitchen?.teardown();
    await office?.teardown();
  });

  it('should show each model on each machine: present, loaded and how it fits', async () => {
    const body = await home();
    expect(body.machines.map((m) => [m.name, m.self, m.gpuCount, m.vramFreeBytes])).toEqual([
      ['office', true, 1, 21 * GB],
      ['kitchen', false, 0, 0],
    ]);
    expect(body.models.map((m) => [m.name, m.copies])).toEqual([
      ['gemma3:4b', 1],
      ['llama3.2:3b', 2],
      ['nomic-embed-text:latest', 1],
      ['all-minilm:latest', 1],
    ]);
    const llama = body.models.find((m) => m.name === 'llama3.2:3b')!;
    const officeId = body.machines[0]!.id;
    expect(llama.cells.map((c) => [c.node, c.present, c.loaded, c.verdict, c.memory])).toEqual([
      [officeId, true, true, 'fits', 'vram'],
      [kitchenId, true, false, 'fits', 'ram'],
    ]);
    const gemma = body.models.find((m) => m.name === 'gemma3:4b')!;
    expect(gemma.cells[0]).toMatchObject({ present: false, verdict: 'fits' });
    expect(gemma.cells[1]).toMatchObject({ present: true, verdict: 'not-now', alternative: 'llama3.2:3b' });
    expect(gemma.best).toBe(officeId);
    expect(gemma.advice).toBe(
      'gemma3:4b needs ~4.0 GB; office has 21 GB free and a GPU: put it there. Kitchen (16 GB, no GPU) is better with llama3.2:3b.',
    );
  });

  it('should advise before pulling a model the home does not have, and warn where it would freeze a box', async () => {
    const body = await home('?model=llama3.1:70b');
    const big = body.models.find((m) => m.name === 'llama3.1:70b')!;
    expect(big).toMatchObject({ copies: 0, sizeSource: 'estimated' });
    expect(big.best).toBeUndefined();
    expect(big.cells.map((c) => c.verdict)).toEqual(['too-big', 'too-big']);
    expect(big.warnings).toContain(
      'Pulling llama3.1:70b onto kitchen would freeze it: it needs ~50 GB and kitchen has 16 GB of RAM.',
    );
  });

  it('should refuse a bad query with a 400 and a member with a 403', async () => {
    const bad = await fetch(
      `${office.node.url}/allerac/v1/models/home?model=${encodeURIComponent('; rm -rf')}`,
    );
    expect(bad.status).toBe(400);
    const unknown = await fetch(`${office.node.url}/allerac/v1/models/home?nope=1`);
    expect(unknown.status).toBe(400);
    const member = await fetch(`${office.node.url}/allerac/v1/models/home`, {
      headers: { authorization: `Bearer ${memberToken}` },
    });
    expect(member.status).toBe(403);
    expect((await remove({ model: '', node: 'kitchen' })).status).toBe(400);
  });

  it("should delete one of two copies at once, but the home's last copy only when confirmed", async () => {
    // llama3.2:3b is on both machines: the kitchen's copy goes without a question.
    const first = await remove({ model: 'llama3.2:3b', node: 'kitchen' });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ model: 'llama3.2:3b', node: 'kitchen', copiesLeft: 1 });
    await waitFor(() => !kitchenHas('llama3.2:3b'), 5_000, 'the kitchen card without llama3.2:3b');

    // gemma3:4b lives only in the kitchen.
    const refused = await remove({ model: 'gemma3:4b', node: 'kitchen' });
    expect(refused.status).toBe(409);
    const error = (await refused.json()) as { error: string };
    expect(error.error).toContain("kitchen holds the home's last copy of gemma3:4b");
    expect(error.error).toContain('"confirm": true');
    expect(kitchenHas('gemma3:4b')).toBe(true);

    const confirmed = await remove({ model: 'gemma3:4b', node: kitchenId, confirm: true });
    expect(confirmed.status).toBe(200);
    const done = (await confirmed.json()) as HomeDeleted;
    expect(done).toEqual({ model: 'gemma3:4b', node: 'kitchen', copiesLeft: 0 });
    await waitFor(() => !kitchenHas('gemma3:4b'), 5_000, 'the kitchen card without gemma3:4b');
    expect((await home()).models.map((m) => m.name)).not.toContain('gemma3:4b');
  });

  it("should pass on Ollama's 404 for a model the machine does not hold, and name an unknown machine", async () => {
    const missing = await remove({ model: 'nothing:here', node: 'kitchen' });
    expect(missing.status).toBe(404);
    const nowhere = await remove({ model: 'nomic-embed-text:latest', node: 'attic' });
    expect(nowhere.status).toBe(404);
    expect(((await nowhere.json()) as { error: string }).error).toContain('no node named "attic"');
  });
});
