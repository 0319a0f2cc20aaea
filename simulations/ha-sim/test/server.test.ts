import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_HOME, type HaState } from '../src/index.js';
import { startTestHa, type TestHa } from './helpers.js';

/** HA's timestamp form: microseconds and an explicit +00:00. */
const HA_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;

let ha: TestHa;
beforeEach(async () => {
  ha = await startTestHa({ recordRequests: true });
});
afterEach(async () => {
  await ha.sim.close();
});

describe('auth', () => {
  it('should answer 401 with aiohttp\'s plain "401: Unauthorized" without or with a wrong token', async () => {
    const none = await fetch(`${ha.sim.url}/api/states`);
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await none.text()).toBe('401: Unauthorized');
    const wrong = await ha.get('/api/', 'not-the-token');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toBe('401: Unauthorized');
    const basic = await fetch(`${ha.sim.url}/api/`, { headers: { Authorization: `Basic ${ha.sim.token}` } });
    expect(basic.status).toBe(401);
  });

  it('should answer 404 for an unknown path and 405 for a wrong method, before checking the token', async () => {
    const unknown = await fetch(`${ha.sim.url}/api/nothing`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe('404: Not Found');
    const wrongMethod = await fetch(`${ha.sim.url}/api/states`, { method: 'POST' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');
  });

  it('should accept any of the configured tokens', async () => {
    const multi = await startTestHa({ tokens: ['alice-token', 'bob-token'] });
    try {
      expect((await multi.get('/api/', 'bob-token')).status).toBe(200);
      expect((await multi.get('/api/', 'carol-token')).status).toBe(401);
    } finally {
      await multi.sim.close();
    }
  });
});

describe('GET endpoints', () => {
  it('should answer /api/ with {"message": "API running."}', async () => {
    const res = await ha.get('/api/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ message: 'API running.' });
  });

  it('should answer /api/config with the location, version, components and unit system', async () => {
    const config = (await (await ha.get('/api/config')).json()) as Record<string, unknown>;
    expect(config.location_name).toBe('Home');
    expect(config.version).toMatch(/^\d{4}\.\d+\.\d+$/);
    expect(config.components).toEqual(expect.arrayContaining(['api', 'light', 'history']));
    expect(config.unit_system).toMatchObject({ temperature: '°C', length: 'km' });
    expect(config.state).toBe('RUNNING');
  });

  it("should list every state with HA's fields and timestamps", async () => {
    const states = (await (await ha.get('/api/states')).json()) as HaState[];
    expect(states.map((s) => s.entity_id)).toEqual(DEFAULT_HOME.entities.map((e) => e.entity_id));
    for (const state of states) {
      expect(Object.keys(state)).toEqual([
        'entity_id',
        'state',
        'attributes',
        'last_changed',
        'last_reported',
        'last_updated',
        'context',
      ]);
      expect(state.last_changed).toMatch(HA_TIME);
      expect(state.context.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
      expect(state.attributes.friendly_name).toEqual(expect.any(String));
      // HA's REST states carry no area: templates expose it.
      expect(state.attributes).not.toHaveProperty('area');
    }
  });

  it('should answer one state, or 404 {"message": "Entity not found."}', async () => {
    const lamp = (await (await ha.get('/api/states/light.living_room_lamp')).json()) as HaState;
    expect(lamp).toMatchObject({
      entity_id: 'light.living_room_lamp',
      state: 'on',
      attributes: { brightness: 180 },
    });
    // HA lower-cases the id it looks up.
    expect((await ha.get('/api/states/LIGHT.Living_Room_Lamp')).status).toBe(200);
    const missing = await ha.get('/api/states/light.garage');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: 'Entity not found.' });
  });

  it('should list the services of each domain, keyed by name with their fields', async () => {
    const domains = (await (await ha.get('/api/services')).json()) as Array<{
      domain: string;
      services: Record<string, { fields: Record<string, unknown> }>;
    }>;
    const byDomain = Object.fromEntries(domains.map((d) => [d.domain, d.services]));
    expect(Object.keys(byDomain)).toEqual(
      expect.arrayContaining([
        'homeassistant',
        'light',
        'switch',
        'climate',
        'cover',
        'lock',
        'media_player',
      ]),
    );
    expect(Object.keys(byDomain.light!)).toEqual(['turn_on', 'turn_off', 'toggle']);
    expect(byDomain.light!.turn_on!.fields).toHaveProperty('brightness');
    expect(byDomain.climate).toHaveProperty('set_temperature');
    expect(byDomain.lock).toHaveProperty('unlock');
  });
});

describe('POST /api/states/<entity_id>', () => {
  it('should create with 201 and update with 200, with a Location header and the state object', async () => {
    const created = await ha.post('/api/states/sensor.kitchen_temperature', {
      state: 21.5,
      attributes: { unit_of_measurement: '°C' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/states/sensor.kitchen_temperature');
    const body = (await created.json()) as HaState;
    // HA stores str(state): a posted number becomes a string.
    expect(body).toMatchObject({ entity_id: 'sensor.kitchen_temperature', state: '21.5' });
    const updated = await ha.post('/api/states/sensor.kitchen_temperature', { state: '22' });
    expect(updated.status).toBe(200);
    // Attributes are replaced, not merged, as in HA.
    expect(((await updated.json()) as HaState).attributes).toEqual({});
  });

  it('should move last_updated on any change but last_changed only when the state changes', async () => {
    let clock = Date.parse('2026-12-01T10:00:00Z');
    const timed = await startTestHa({ now: () => clock });
    try {
      await timed.post('/api/states/sensor.t', { state: '1', attributes: { a: 1 } });
      clock += 1000;
      await timed.post('/api/states/sensor.t', { state: '1', attributes: { a: 2 } });
      expect(timed.sim.state('sensor.t')).toMatchObject({
        attributes: { a: 2 },
        last_changed: '2026-12-01T10:00:00.000000+00:00',
        last_updated: '2026-12-01T10:00:01.000000+00:00',
      });
      clock += 1000;
      await timed.post('/api/states/sensor.t', { state: '2', attributes: { a: 2 } });
      expect(timed.sim.state('sensor.t')?.last_changed).toBe('2026-12-01T10:00:02.000000+00:00');
    } finally {
      await timed.sim.close();
    }
  });

  it("should refuse bad input with HA's 400 messages", async () => {
    const cases: Array<[string, string, string]> = [
      ['/api/states/sensor.x', '{not json', 'Invalid JSON specified.'],
      ['/api/states/sensor.x', '', 'Invalid JSON specified.'],
      ['/api/states/sensor.x', JSON.stringify({ attributes: {} }), 'No state specified.'],
      ['/api/states/sensor.x', JSON.stringify({ state: null }), 'No state specified.'],
      ['/api/states/not_an_entity', JSON.stringify({ state: 'on' }), 'Invalid entity ID specified.'],
      ['/api/states/sensor.x', JSON.stringify({ state: 'x'.repeat(256) }), 'Invalid state specified.'],
      ['/api/states/sensor.x', JSON.stringify(['on']), 'State data should be a JSON object.'],
    ];
    for (const [path, body, message] of cases) {
      const res = await ha.post(path, body);
      expect(res.status, body).toBe(400);
      expect(await res.json()).toEqual({ message });
    }
  });

  it('should remove an entity with DELETE and then answer 404', async () => {
    const del = () =>
      fetch(`${ha.sim.url}/api/states/switch.kitchen_kettle`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${ha.sim.token}` },
      });
    expect(await (await del()).json()).toEqual({ message: 'Entity removed.' });
    const again = await del();
    expect(again.status).toBe(404);
  });
});

describe('request recording', () => {
  it('should record each request with its path, query, body and whether it was authorized', async () => {
    await ha.post('/api/services/light/turn_on?x=1', { entity_id: 'light.bedroom_bedside' });
    await fetch(`${ha.sim.url}/api/states`);
    const log = ha.sim.requests();
    expect(log.map((r) => [r.method, r.path, r.query, r.authorized])).toEqual([
      ['POST', '/api/services/light/turn_on', 'x=1', true],
      ['GET', '/api/states', '', false],
    ]);
    expect(JSON.parse(log[0]!.body)).toEqual({ entity_id: 'light.bedroom_bedside' });
    const viaHttp = (await (await fetch(`${ha.sim.url}/_sim/requests`)).json()) as unknown[];
    expect(viaHttp).toHaveLength(2);
    ha.sim.clearRequests();
    expect(ha.sim.requests()).toEqual([]);
  });

  it('should record nothing unless asked', async () => {
    const quiet = await startTestHa();
    try {
      await quiet.get('/api/');
      expect(quiet.sim.requests()).toEqual([]);
    } finally {
      await quiet.sim.close();
    }
  });
});

describe('a custom home', () => {
  it('should serve the states and areas of the home it is given', async () => {
    const custom = await startTestHa({
      home: {
        location_name: 'Cabin',
        areas: [{ id: 'porch', name: 'Porch' }],
        entities: [
          { entity_id: 'light.porch', state: 'off', area: 'porch', attributes: { friendly_name: 'Porch' } },
        ],
      },
    });
    try {
      expect(
        ((await (await custom.get('/api/config')).json()) as { location_name: string }).location_name,
      ).toBe('Cabin');
      expect(((await (await custom.get('/api/states')).json()) as HaState[]).map((s) => s.entity_id)).toEqual(
        ['light.porch'],
      );
      const res = await custom.post('/api/template', { template: "{{ area_entities('Porch') | tojson }}" });
      expect(await res.text()).toBe('["light.porch"]');
    } finally {
      await custom.sim.close();
    }
  });
});

describe('lifecycle', () => {
  it('should close twice safely', async () => {
    const once = await startTestHa();
    await once.sim.close();
    await once.sim.close();
    await expect(fetch(`${once.sim.url}/api/`)).rejects.toThrow();
  });
});
