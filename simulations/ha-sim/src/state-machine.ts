/** The state machine and recorder: current states, their history, and which area each entity is in. */
import { haTimestamp } from './time.js';
import type { HaArea, HaContext, HaHome, HaState, JsonObject, JsonValue } from './types.js';
import { ulid } from './ulid.js';

/** HA's `valid_entity_id` (homeassistant/core.py): `domain.object_id`, lower case, digits, underscores. */
const VALID_ENTITY_ID = /^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$/;

/** HA refuses longer states (`MAX_LENGTH_STATE_STATE`). */
export const MAX_STATE_LENGTH = 255;

/** Whether an entity id is well formed. */
export function validEntityId(entityId: string): boolean {
  return VALID_ENTITY_ID.test(entityId);
}

/** The entity id does not have HA's `domain.object_id` form. */
export class InvalidEntityFormatError extends Error {
  override name = 'InvalidEntityFormatError';
}

/** The state is longer than HA allows. */
export class InvalidStateError extends Error {
  override name = 'InvalidStateError';
}

/** Python's `str()` of a JSON value, which is how HA turns a posted state into its string. */
export function pythonStr(value: JsonValue): string {
  if (typeof value === 'string') return value;
  return pythonRepr(value);
}

/** Python's `repr()` of a JSON value: what HA renders for lists and dicts in templates. */
export function pythonRepr(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${pythonRepr(k)}: ${pythonRepr(v)}`)
    .join(', ')}}`;
}

function sameJson(a: JsonValue, b: JsonValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function copyState(state: HaState): HaState {
  return structuredClone(state);
}

/** The states of one home, with every change kept for `/api/history`. */
export class StateMachine {
  private readonly states = new Map<string, HaState>();
  private readonly history: HaState[] = [];
  private readonly areaOf = new Map<string, string>();
  readonly areas: HaArea[];

  constructor(
    home: HaHome,
    private readonly now: () => number,
  ) {
    this.areas = home.areas.map((area) => ({ ...area }));
    const context = this.newContext(null);
    for (const entity of home.entities) {
      this.set(entity.entity_id, entity.state, entity.attributes ?? {}, context);
      if (entity.area !== undefined) this.areaOf.set(entity.entity_id, entity.area);
    }
  }

  /** A fresh context, one per request that may change states. */
  newContext(userId: string | null): HaContext {
    return { id: ulid(this.now()), parent_id: null, user_id: userId };
  }

  /** The current state of an entity (a copy). */
  get(entityId: string): HaState | undefined {
    // HA's `States.get` lower-cases the id.
    const state = this.states.get(entityId.toLowerCase());
    return state === undefined ? undefined : copyState(state);
  }

  /** Every current state, in the order the entities were created. */
  all(): HaState[] {
    return [...this.states.values()].map(copyState);
  }

  /** Entity ids of one domain. */
  entityIds(domain?: string): string[] {
    const ids = [...this.states.keys()];
    return domain === undefined ? ids : ids.filter((id) => id.startsWith(`${domain}.`));
  }

  /**
   * HA's `StateMachine.async_set`: writes a state and answers it when that fires `state_changed`,
   * that is when the state or attributes differ (or `forceUpdate`); otherwise only `last_reported`
   * moves and the answer is undefined. Attributes are replaced, not merged, as in HA.
   */
  set(
    entityId: string,
    state: string,
    attributes: JsonObject,
    context: HaContext,
    forceUpdate = false,
  ): HaState | undefined {
    const id = entityId.toLowerCase();
    if (!validEntityId(id)) throw new InvalidEntityFormatError(`Invalid entity ID: ${entityId}`);
    if (state.length > MAX_STATE_LENGTH)
      throw new InvalidStateError(`Invalid state with length ${state.length}`);
    const at = haTimestamp(this.now());
    const old = this.states.get(id);
    if (old !== undefined && old.state === state && sameJson(old.attributes, attributes) && !forceUpdate) {
      old.last_reported = at;
      return undefined;
    }
    const next: HaState = {
      entity_id: id,
      state,
      attributes: structuredClone(attributes),
      last_changed: old !== undefined && old.state === state ? old.last_changed : at,
      last_reported: at,
      last_updated: at,
      context: { ...context },
    };
    this.states.set(id, next);
    this.history.push(copyState(next));
    return copyState(next);
  }

  /** Removes an entity's state (its history stays); false if there was none. */
  remove(entityId: string): boolean {
    return this.states.delete(entityId.toLowerCase());
  }

  /** The area id an entity is in, if any. */
  areaIdOf(entityId: string): string | undefined {
    return this.areaOf.get(entityId);
  }

  /** The entities in an area, by area id. */
  entitiesInArea(areaId: string): string[] {
    return [...this.areaOf.entries()]
      .filter(([entityId, area]) => area === areaId && this.states.has(entityId))
      .map(([entityId]) => entityId);
  }

  /** Every recorded state of one entity, oldest first (copies). */
  historyOf(entityId: string): HaState[] {
    return this.history.filter((state) => state.entity_id === entityId).map(copyState);
  }
}
