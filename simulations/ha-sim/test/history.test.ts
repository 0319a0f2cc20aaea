import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestHa, type TestHa } from './helpers.js';

let ha: TestHa;
let clock: number;
const START = Date.parse('2026-12-01T10:00:00Z');
beforeEach(async () => {
  clock = START;
  ha = await startTestHa({ now: () => clock });
});
afterEach(async () => {
  await ha.sim.close();
});

type Row = Record<string, unknown>;

async function history(query: string, since = '2026-12-01T09:00:00+00:00'): Promise<Response> {
  return ha.get(`/api/history/period/${encodeURIComponent(since)}?${query}`);
}

describe('GET /api/history/period/<timestamp>', () => {
  it('should show a service call as a recorded change, after the state at the start of the period', async () => {
    clock += 60_000;
    await ha.post('/api/services/light/turn_on', { entity_id: 'light.kitchen_ceiling', brightness: 200 });
    clock += 60_000;
    await ha.post('/api/services/light/turn_off', { entity_id: 'light.kitchen_ceiling' });
    clock += 60_000;
    const res = await history('filter_entity_id=light.kitchen_ceiling');
    expect(res.status).toBe(200);
    const [rows, ...others] = (await res.json()) as Row[][];
    expect(others).toEqual([]);
    expect(rows!.map((r) => [r.state, r.last_changed])).toEqual([
      ['off', '2026-12-01T10:00:00.000000+00:00'],
      ['on', '2026-12-01T10:01:00.000000+00:00'],
      ['off', '2026-12-01T10:02:00.000000+00:00'],
    ]);
    expect(Object.keys(rows![0]!)).toEqual([
      'entity_id',
      'state',
      'attributes',
      'last_changed',
      'last_updated',
    ]);
    expect(rows![1]!.attributes).toMatchObject({ brightness: 200 });
  });

  it('should date the state at the start of the period at the start, and skip it with skip_initial_state', async () => {
    clock += 3_600_000;
    const since = '2026-12-01T10:30:00+00:00';
    const [rows] = (await (await history('filter_entity_id=lock.front_door', since)).json()) as Row[][];
    expect(rows).toEqual([
      expect.objectContaining({ state: 'locked', last_changed: '2026-12-01T10:30:00.000000+00:00' }),
    ]);
    expect(
      await (await history('filter_entity_id=lock.front_door&skip_initial_state', since)).json(),
    ).toEqual([]);
  });

  it('should answer one list per entity in the order asked, with minimal rows after the first', async () => {
    clock += 1000;
    await ha.post('/api/services/lock/unlock', { entity_id: 'lock.front_door' });
    clock += 1000;
    await ha.post('/api/services/lock/lock', { entity_id: 'lock.front_door' });
    const lists = (await (
      await history('filter_entity_id=lock.front_door,switch.kitchen_kettle&minimal_response')
    ).json()) as Row[][];
    expect(lists.map((rows) => rows[0]!.entity_id)).toEqual(['lock.front_door', 'switch.kitchen_kettle']);
    expect(lists[0]!.slice(1)).toEqual([
      { state: 'unlocked', last_changed: '2026-12-01T10:00:01.000000+00:00' },
      { state: 'locked', last_changed: '2026-12-01T10:00:02.000000+00:00' },
    ]);
  });

  it('should leave attribute-only changes out unless significant_changes_only=0', async () => {
    clock += 1000;
    await ha.post('/api/services/light/turn_on', { entity_id: 'light.living_room_lamp', brightness: 10 });
    const only = (await (await history('filter_entity_id=light.living_room_lamp')).json()) as Row[][];
    expect(only[0]).toHaveLength(1);
    const all = (await (
      await history('filter_entity_id=light.living_room_lamp&significant_changes_only=0')
    ).json()) as Row[][];
    expect(all[0]!.map((r) => (r.attributes as Row).brightness)).toEqual([180, 10]);
  });

  it('should stop at end_time and answer [] for a start in the future', async () => {
    clock += 7_200_000;
    await ha.post('/api/services/switch/turn_on', { entity_id: 'switch.kitchen_kettle' });
    const end = encodeURIComponent('2026-12-01T11:00:00+00:00');
    const [rows] = (await (
      await history(`filter_entity_id=switch.kitchen_kettle&end_time=${end}`)
    ).json()) as Row[][];
    expect(rows!.map((r) => r.state)).toEqual(['off']);
    expect(
      await (await history('filter_entity_id=switch.kitchen_kettle', '2027-01-01T00:00:00+00:00')).json(),
    ).toEqual([]);
  });

  it("should refuse bad queries with HA's messages", async () => {
    const cases: Array<[string, string, string]> = [
      ['', '2026-12-01T09:00:00+00:00', 'filter_entity_id is missing'],
      ['filter_entity_id=light.kit!chen', '2026-12-01T09:00:00+00:00', 'Invalid filter_entity_id'],
      ['filter_entity_id=light.kitchen_ceiling', 'yesterday', 'Invalid datetime'],
      [
        'filter_entity_id=light.kitchen_ceiling&end_time=soon',
        '2026-12-01T09:00:00+00:00',
        'Invalid end_time',
      ],
    ];
    for (const [query, since, message] of cases) {
      const res = await history(query, since);
      expect(res.status, message).toBe(400);
      expect(await res.json()).toEqual({ message });
    }
  });

  it('should default the start to a day ago when the path has no timestamp', async () => {
    clock += 1000;
    const res = await ha.get('/api/history/period?filter_entity_id=lock.front_door');
    expect(((await res.json()) as Row[][])[0]![0]!.state).toBe('locked');
  });
});
