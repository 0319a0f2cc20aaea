/** Issue #11, "two peers may share a name": the mesh shows clashing names with a suffix and a flag. */

import { displayNames } from '@allerac/mesh';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Home, type HomeNode, startHome } from './fixtures/mesh-home.js';

describe('display names', () => {
  it('should leave distinct names alone', () => {
    const names = displayNames(
      'kitchen',
      new Map([
        ['12D3KooWAaaa', 'office'],
        ['12D3KooWBbbb', 'attic'],
      ]),
    );
    expect([...names.values()]).toEqual([
      { name: 'office', clash: false },
      { name: 'attic', clash: false },
    ]);
  });

  it('should suffix every peer that shares a name, ignoring case, with the end of its id', () => {
    const names = displayNames(
      'kitchen',
      new Map([
        ['12D3KooWAaaa', 'office'],
        ['12D3KooWBbbb', 'Office '],
      ]),
    );
    expect(names.get('12D3KooWAaaa')).toEqual({ name: 'office (…Aaaa)', clash: true });
    expect(names.get('12D3KooWBbbb')).toEqual({ name: 'Office  (…Bbbb)', clash: true });
  });

  it('should suffix a peer that has this node’s own name', () => {
    const names = displayNames('kitchen', new Map([['12D3KooWAaaa', 'kitchen']]));
    expect(names.get('12D3KooWAaaa')).toEqual({ name: 'kitchen (…Aaaa)', clash: true });
  });
});

describe('peer names in the mesh', () => {
  let home: Home;
  let kitchen: HomeNode;
  let office: HomeNode;
  let office2: HomeNode;

  beforeAll(async () => {
    home = await startHome(['kitchen', 'office', 'office@2']);
    kitchen = home.node('kitchen');
    office = home.node('office');
    office2 = home.node('office@2');
  }, 60_000);

  afterAll(async () => {
    await home?.teardown();
  });

  it('should show two peers that call themselves alike under unique names, flagged, with the card unchanged', () => {
    const views = kitchen.mesh.peers();
    const names = views.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const node of [office, office2]) {
      const view = kitchen.view(node);
      expect(view).toMatchObject({ name: `office (…${node.id.slice(-4)})`, nameClash: true });
      expect(view?.card.name).toBe('office');
    }
  });

  it('should flag a peer whose name is the viewing node’s own', () => {
    expect(office.view(office2)).toMatchObject({ nameClash: true });
    expect(office.view(kitchen)).toMatchObject({ name: 'kitchen', nameClash: false });
  });
});
