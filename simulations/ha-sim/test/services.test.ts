import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HaState } from '../src/index.js';
import { startTestHa, type TestHa } from './helpers.js';

let ha: TestHa;
let clock: number;
beforeEach(async () => {
  clock = Date.parse('2026-12-01T10:00:00Z');
  ha = await startTestHa({ now: () => clock });
});
afterEach(async () => {
  await ha.sim.close();
});

async function call(service: string, data: unknown, query = ''): Promise<Response> {
  return ha.post(`/api/services/${service.replace('.', '/')}${query}`, data);
}

describe('POST /api/services/<domain>/<service>', () => {
  it('should turn a light on with a brightness and answer the changed states', async () => {
    clock += 1000;
    const res = await call('light.turn_on', { entity_id: 'light.kitchen_ceiling', brightness: 128 });
    expect(res.status).toBe(200);
    const changed = (await res.json()) as HaState[];
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({
      entity_id: 'light.kitchen_ceiling',
      state: 'on',
      attributes: { brightness: 128, color_mode: 'brightness', friendly_name: 'Kitchen Ceiling' },
      last_changed: '2026-12-01T10:00:01.000000+00:00',
    });
    expect(changed[0]!.context.user_id).toEqual(expect.any(String));
    expect(ha.sim.state('light.kitchen_ceiling')?.state).toBe('on');
  });

  it('should take entity_id as a list or a comma-separated string', async () => {
    const list = (await (
      await call('light.turn_on', {
        entity_id: ['light.kitchen_ceiling', 'light.bedroom_bedside'],
        brightness_pct: 50,
      })
    ).json()) as HaState[];
    expect(list.map((s) => [s.entity_id, s.attributes.brightness])).toEqual([
      ['light.kitchen_ceiling', 128],
      ['light.bedroom_bedside', 128],
    ]);
    const csv = (await (
      await call('light.turn_off', { entity_id: 'light.kitchen_ceiling, light.bedroom_bedside' })
    ).json()) as HaState[];
    expect(csv.map((s) => s.state)).toEqual(['off', 'off']);
  });

  it('should answer [] when nothing changes, skipping unknown entities as HA does', async () => {
    expect(
      await (await call('light.turn_on', { entity_id: 'light.living_room_lamp', brightness: 180 })).json(),
    ).toEqual([]);
    expect(await (await call('light.turn_on', { entity_id: 'light.nowhere' })).json()).toEqual([]);
    // An entity of another domain is not the light service's to change.
    expect(await (await call('light.turn_on', { entity_id: 'switch.kitchen_kettle' })).json()).toEqual([]);
  });

  it('should toggle, and turn a light off at brightness 0', async () => {
    const toggled = (await (
      await call('light.toggle', { entity_id: 'light.living_room_lamp' })
    ).json()) as HaState[];
    expect(toggled[0]).toMatchObject({ state: 'off', attributes: { brightness: null } });
    await call('light.turn_on', { entity_id: 'light.living_room_lamp', brightness: 0 });
    expect(ha.sim.state('light.living_room_lamp')?.state).toBe('off');
  });

  it('should drive switches, thermostats, covers, locks and media players', async () => {
    await call('switch.turn_on', { entity_id: 'switch.kitchen_kettle' });
    expect(ha.sim.state('switch.kitchen_kettle')?.state).toBe('on');
    await call('climate.set_temperature', { entity_id: 'climate.living_room_thermostat', temperature: 22.5 });
    expect(ha.sim.state('climate.living_room_thermostat')).toMatchObject({
      state: 'heat',
      attributes: { temperature: 22.5 },
    });
    await call('cover.open_cover', { entity_id: 'cover.living_room_blinds' });
    expect(ha.sim.state('cover.living_room_blinds')).toMatchObject({
      state: 'open',
      attributes: { current_position: 100 },
    });
    await call('lock.unlock', { entity_id: 'lock.front_door' });
    expect(ha.sim.state('lock.front_door')?.state).toBe('unlocked');
    await call('media_player.media_play', { entity_id: 'media_player.living_room_speaker' });
    await call('media_player.volume_set', {
      entity_id: 'media_player.living_room_speaker',
      volume_level: 0.6,
    });
    expect(ha.sim.state('media_player.living_room_speaker')).toMatchObject({
      state: 'playing',
      attributes: { volume_level: 0.6 },
    });
  });

  it('should target every entity of an area with area_id, and dispatch homeassistant.turn_off by domain', async () => {
    const changed = (await (await call('light.turn_on', { area_id: 'kitchen' })).json()) as HaState[];
    expect(changed.map((s) => s.entity_id)).toEqual(['light.kitchen_ceiling']);
    const off = (await (
      await call('homeassistant.turn_off', {
        entity_id: ['light.kitchen_ceiling', 'cover.living_room_blinds', 'lock.front_door'],
      })
    ).json()) as HaState[];
    // The cover was already closed and a lock has no turn_off: only the light changes.
    expect(off.map((s) => [s.entity_id, s.state])).toEqual([['light.kitchen_ceiling', 'off']]);
  });

  it('should answer aiohttp\'s "400: Bad Request" for an unknown service or data the schema refuses', async () => {
    const bad: Array<[string, unknown]> = [
      ['light.explode', { entity_id: 'light.kitchen_ceiling' }],
      ['nothing.turn_on', {}],
      ['light.turn_on', { entity_id: 'light.kitchen_ceiling', brightness: 300 }],
      ['light.turn_on', { entity_id: 'light.kitchen_ceiling', colour: 'red' }],
      ['light.turn_on', { entity_id: 'not an entity' }],
      ['light.turn_on', { entity_id: 42 }],
      ['light.turn_on', ['light.kitchen_ceiling']],
      ['climate.set_temperature', { entity_id: 'climate.living_room_thermostat' }],
      ['climate.set_temperature', { entity_id: 'climate.living_room_thermostat', temperature: 80 }],
    ];
    for (const [service, data] of bad) {
      const res = await call(service, data);
      expect(res.status, `${service} ${JSON.stringify(data)}`).toBe(400);
      expect(await res.text()).toBe('400: Bad Request');
    }
    expect(ha.sim.state('light.kitchen_ceiling')?.state).toBe('off');
  });

  it('should answer {"message": "Data should be valid JSON."} for a body that is not JSON', async () => {
    const res = await call('light.turn_on', '{"entity_id": ');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message: 'Data should be valid JSON.' });
  });

  it('should accept an empty body, as HA calls the service with no data', async () => {
    const res = await ha.post('/api/services/light/turn_on', '');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
  });

  it("should refuse ?return_response for a service without responses, with HA's message", async () => {
    const res = await call('light.turn_on', { entity_id: 'light.kitchen_ceiling' }, '?return_response');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      message: 'Service does not support responses. Remove return_response from request.',
    });
    expect(ha.sim.state('light.kitchen_ceiling')?.state).toBe('off');
  });
});
