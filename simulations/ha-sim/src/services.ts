/**
 * The services the simulated integrations register, with the state changes they make. Each follows
 * its integration's entity service schema (homeassistant/components/<domain>/__init__.py); data
 * the schema refuses is a `vol.Invalid`, here ServiceDataError.
 */
import type { StateMachine } from './state-machine.js';
import { validEntityId } from './state-machine.js';
import type { HaContext, HaState, JsonObject, JsonValue } from './types.js';

/** The service data failed the service's schema (HA's `vol.Invalid`); the REST API answers 400. */
export class ServiceDataError extends Error {
  override name = 'ServiceDataError';
}

/** No such service (HA's `ServiceNotFound`); the REST API answers 400. */
export class ServiceNotFoundError extends Error {
  override name = 'ServiceNotFoundError';
}

/** Whether a service can answer data (`homeassistant.core.SupportsResponse`). */
export type SupportsResponse = 'none' | 'optional' | 'only';

/** One field of a service description, as `/api/services` lists it. */
interface FieldDescription {
  name: string;
  description: string;
  required?: boolean;
  example?: JsonValue;
  selector: JsonObject;
}

/** Changes one entity; answers the state to write, or undefined to leave it. */
type EntityAction = (
  state: HaState,
  data: JsonObject,
) => { state: string; attributes: JsonObject } | undefined;

interface ServiceDefinition {
  name: string;
  description: string;
  fields: Record<string, FieldDescription>;
  action: EntityAction;
  supportsResponse: SupportsResponse;
}

/** The keys every entity service takes besides its own fields (`cv.ENTITY_SERVICE_FIELDS`). */
const TARGET_KEYS = new Set(['entity_id', 'device_id', 'area_id', 'floor_id', 'label_id']);

function numberIn(data: JsonObject, key: string, min: number, max: number): number | undefined {
  const value = data[key];
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
    throw new ServiceDataError(
      `value must be a number between ${min} and ${max} for dictionary value @ data['${key}']`,
    );
  }
  return n;
}

function withAttributes(
  state: HaState,
  next: string,
  changes: JsonObject,
): { state: string; attributes: JsonObject } {
  return { state: next, attributes: { ...state.attributes, ...changes } };
}

function lightOn(state: HaState, data: JsonObject): { state: string; attributes: JsonObject } {
  const brightness = numberIn(data, 'brightness', 0, 255);
  const pct = numberIn(data, 'brightness_pct', 0, 100);
  numberIn(data, 'transition', 0, 6553);
  const previous = typeof state.attributes.brightness === 'number' ? state.attributes.brightness : 255;
  const level = brightness ?? (pct !== undefined ? Math.round((pct * 255) / 100) : previous);
  // HA's light.turn_on with brightness 0 turns the light off.
  if (level === 0) return lightOff(state);
  return withAttributes(state, 'on', { color_mode: 'brightness', brightness: Math.round(level) });
}

function lightOff(state: HaState): { state: string; attributes: JsonObject } {
  return withAttributes(state, 'off', { color_mode: null, brightness: null });
}

const LIGHT_FIELDS: Record<string, FieldDescription> = {
  brightness: {
    name: 'Brightness value',
    description:
      'Number indicating brightness, where 0 turns the light off, 1 is the minimum and 255 is the maximum.',
    selector: { number: { min: 0, max: 255 } },
  },
  brightness_pct: {
    name: 'Brightness',
    description: 'Number indicating the percentage of full brightness, where 0 turns the light off.',
    selector: { number: { min: 0, max: 100, unit_of_measurement: '%' } },
  },
  transition: {
    name: 'Transition',
    description: 'Duration it takes to get to next state.',
    selector: { number: { min: 0, max: 300, unit_of_measurement: 'seconds' } },
  },
};

function service(
  name: string,
  description: string,
  action: EntityAction,
  fields: Record<string, FieldDescription> = {},
): ServiceDefinition {
  return { name, description, fields, action, supportsResponse: 'none' };
}

const onOff = (on: string, off: string) => ({
  turn_on: service('Turn on', 'Turns on the entity.', (s) => withAttributes(s, on, {})),
  turn_off: service('Turn off', 'Turns off the entity.', (s) => withAttributes(s, off, {})),
  toggle: service('Toggle', 'Toggles the entity.', (s) => withAttributes(s, s.state === on ? off : on, {})),
});

function coverTo(state: HaState, position: number): { state: string; attributes: JsonObject } {
  return withAttributes(state, position === 0 ? 'closed' : 'open', { current_position: position });
}

function climateTemperature(state: HaState, data: JsonObject): { state: string; attributes: JsonObject } {
  const min = typeof state.attributes.min_temp === 'number' ? state.attributes.min_temp : 7;
  const max = typeof state.attributes.max_temp === 'number' ? state.attributes.max_temp : 35;
  if (data.temperature === undefined)
    throw new ServiceDataError("required key not provided @ data['temperature']");
  const temperature = numberIn(data, 'temperature', min, max)!;
  const mode = data.hvac_mode;
  if (mode !== undefined) hvacMode(state, mode);
  return withAttributes(state, typeof mode === 'string' ? mode : state.state, { temperature });
}

function hvacMode(state: HaState, mode: JsonValue | undefined): string {
  const modes = Array.isArray(state.attributes.hvac_modes) ? state.attributes.hvac_modes : [];
  if (typeof mode !== 'string' || !modes.includes(mode)) {
    throw new ServiceDataError(
      `value must be one of ${JSON.stringify(modes)} for dictionary value @ data['hvac_mode']`,
    );
  }
  return mode;
}

/** The simulated integrations' services, by domain. */
const SERVICES: Record<string, Record<string, ServiceDefinition>> = {
  light: {
    turn_on: service(
      'Turn on',
      'Turns on one or more lights and adjusts their properties.',
      lightOn,
      LIGHT_FIELDS,
    ),
    turn_off: service('Turn off', 'Turns off one or more lights.', (s) => lightOff(s), {
      transition: LIGHT_FIELDS.transition!,
    }),
    toggle: service(
      'Toggle',
      'Toggles one or more lights.',
      (s, d) => (s.state === 'on' ? lightOff(s) : lightOn(s, d)),
      LIGHT_FIELDS,
    ),
  },
  switch: onOff('on', 'off'),
  media_player: {
    ...onOff('playing', 'off'),
    media_play: service('Play', 'Starts playing.', (s) => withAttributes(s, 'playing', {})),
    media_pause: service('Pause', 'Pauses.', (s) => withAttributes(s, 'paused', {})),
    media_stop: service('Stop', 'Stops playing.', (s) => withAttributes(s, 'idle', {})),
    volume_set: service(
      'Set volume',
      'Sets the volume level.',
      (s, d) => {
        if (d.volume_level === undefined)
          throw new ServiceDataError("required key not provided @ data['volume_level']");
        return withAttributes(s, s.state, { volume_level: numberIn(d, 'volume_level', 0, 1)! });
      },
      {
        volume_level: {
          name: 'Level',
          description: 'The volume. 0 is inaudible, 1 is the maximum volume.',
          required: true,
          selector: { number: { min: 0, max: 1, step: 0.01 } },
        },
      },
    ),
  },
  climate: {
    set_temperature: service('Set target temperature', 'Sets the temperature setpoint.', climateTemperature, {
      temperature: {
        name: 'Target temperature',
        description: 'The temperature setpoint.',
        selector: { number: { min: 0, max: 250, step: 0.1 } },
      },
      hvac_mode: {
        name: 'HVAC mode',
        description: 'HVAC operation mode.',
        selector: { select: { options: ['off', 'heat', 'cool', 'auto'] } },
      },
    }),
    set_hvac_mode: service(
      'Set HVAC mode',
      'Sets HVAC operation mode.',
      (s, d) => withAttributes(s, hvacMode(s, d.hvac_mode), {}),
      {
        hvac_mode: {
          name: 'HVAC mode',
          description: 'HVAC operation mode.',
          selector: { select: { options: ['off', 'heat', 'cool', 'auto'] } },
        },
      },
    ),
    turn_on: service('Turn on', 'Turns climate device on.', (s) =>
      withAttributes(s, s.state === 'off' ? 'heat' : s.state, {}),
    ),
    turn_off: service('Turn off', 'Turns climate device off.', (s) => withAttributes(s, 'off', {})),
  },
  cover: {
    open_cover: service('Open', 'Opens a cover.', (s) => coverTo(s, 100)),
    close_cover: service('Close', 'Closes a cover.', (s) => coverTo(s, 0)),
    stop_cover: service('Stop', 'Stops the cover movement.', () => undefined),
    toggle: service('Toggle', 'Toggles a cover open/closed.', (s) =>
      coverTo(s, s.state === 'closed' ? 100 : 0),
    ),
    set_cover_position: service(
      'Set position',
      'Moves a cover to a specific position.',
      (s, d) => {
        if (d.position === undefined)
          throw new ServiceDataError("required key not provided @ data['position']");
        return coverTo(s, Math.round(numberIn(d, 'position', 0, 100)!));
      },
      {
        position: {
          name: 'Position',
          description: 'Target position.',
          required: true,
          selector: { number: { min: 0, max: 100 } },
        },
      },
    ),
  },
  lock: {
    lock: service('Lock', 'Locks a lock.', (s) => withAttributes(s, 'locked', {})),
    unlock: service('Unlock', 'Unlocks a lock.', (s) => withAttributes(s, 'unlocked', {})),
  },
};

/** `homeassistant.turn_on/turn_off/toggle`: the same service of each entity's own domain. */
const GENERIC_SERVICES = ['turn_on', 'turn_off', 'toggle'] as const;

/** The domain-specific service `homeassistant.<service>` stands for (covers open and close). */
function genericFor(domain: string, name: string): ServiceDefinition | undefined {
  if (domain === 'cover') {
    const cover = SERVICES.cover!;
    return name === 'turn_on' ? cover.open_cover : name === 'turn_off' ? cover.close_cover : cover.toggle;
  }
  return SERVICES[domain]?.[name];
}

/** Whether a service exists. */
export function hasService(domain: string, name: string): boolean {
  if (domain === 'homeassistant') return (GENERIC_SERVICES as readonly string[]).includes(name);
  return SERVICES[domain]?.[name] !== undefined;
}

/** Whether a service can answer data; every simulated service is `SupportsResponse.NONE`. */
export function supportsResponse(domain: string, name: string): SupportsResponse {
  return SERVICES[domain]?.[name]?.supportsResponse ?? 'none';
}

/** `GET /api/services`: each domain with its service descriptions, keyed by service name. */
export function describeServices(): Array<{ domain: string; services: JsonObject }> {
  const describe = (domain: string, def: ServiceDefinition): JsonObject => ({
    name: def.name,
    description: def.description,
    fields: def.fields as unknown as JsonObject,
    target: { entity: [domain === 'homeassistant' ? {} : { domain: [domain] }] },
  });
  const domains = Object.entries(SERVICES).map(([domain, services]) => ({
    domain,
    services: Object.fromEntries(
      Object.entries(services).map(([name, def]) => [name, describe(domain, def)]),
    ),
  }));
  const generic = SERVICES.switch!;
  domains.unshift({
    domain: 'homeassistant',
    services: Object.fromEntries(
      GENERIC_SERVICES.map((name) => [name, describe('homeassistant', generic[name]!)]),
    ),
  });
  return domains;
}

/** `cv.comp_entity_ids`: a string (comma-separated allowed) or a list of strings, each well formed. */
function idList(value: JsonValue | undefined, key: string): string[] {
  if (value === undefined || value === null) return [];
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  if (items === undefined || items.some((item) => typeof item !== 'string')) {
    throw new ServiceDataError(
      `Entity IDs should be a string or a list of strings for dictionary value @ data['${key}']`,
    );
  }
  return (items as string[]).map((item) => item.trim().toLowerCase()).filter((item) => item !== '');
}

/** The entities a call targets: `entity_id` (or `all`) plus the entities of each `area_id`. */
function targets(states: StateMachine, domain: string, data: JsonObject): string[] {
  const ids = idList(data.entity_id, 'entity_id');
  for (const id of ids) {
    if (id !== 'all' && !validEntityId(id))
      throw new ServiceDataError(
        `Entity ID ${id} is an invalid entity ID for dictionary value @ data['entity_id']`,
      );
  }
  const wanted = new Set<string>();
  const ofDomain = (id: string) => domain === 'homeassistant' || id.startsWith(`${domain}.`);
  for (const id of ids) {
    if (id === 'all')
      for (const each of states.entityIds(domain === 'homeassistant' ? undefined : domain)) wanted.add(each);
    else wanted.add(id);
  }
  for (const area of idList(data.area_id, 'area_id'))
    for (const id of states.entitiesInArea(area)) wanted.add(id);
  // Missing entities and those of another domain are skipped, as HA does (it only logs a warning).
  return [...wanted].filter((id) => ofDomain(id) && states.get(id) !== undefined);
}

/** Calls a service and answers the states it changed, in order. */
export function callService(
  states: StateMachine,
  domain: string,
  name: string,
  data: JsonValue,
  context: HaContext,
): HaState[] {
  if (!hasService(domain, name)) throw new ServiceNotFoundError(`Action ${domain}.${name} not found.`);
  if (data === null) data = {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new ServiceDataError('expected a dictionary');
  const own = SERVICES[domain]?.[name];
  // The schema is checked before any entity is touched; homeassistant.* passes data through.
  const extra =
    own === undefined
      ? undefined
      : Object.keys(data).find((key) => !TARGET_KEYS.has(key) && !(key in own.fields));
  if (extra !== undefined) throw new ServiceDataError(`extra keys not allowed @ data['${extra}']`);
  const changed: HaState[] = [];
  for (const entityId of targets(states, domain, data)) {
    const entityDomain = entityId.split('.')[0]!;
    const def = domain === 'homeassistant' ? genericFor(entityDomain, name) : SERVICES[domain]![name]!;
    // homeassistant.turn_on on a domain without such a service is skipped, as HA does.
    if (def === undefined) continue;
    const current = states.get(entityId)!;
    const next = def.action(current, data);
    if (next === undefined) continue;
    const written = states.set(entityId, next.state, next.attributes, context);
    if (written !== undefined) changed.push(written);
  }
  return changed;
}
