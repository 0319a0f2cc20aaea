/** Public shapes of the simulator: its options, its home fixture and the JSON it answers. */

/** A JSON value as Home Assistant stores it in attributes and service data. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** The context of a state change (homeassistant/core.py `Context.as_dict`). */
export interface HaContext {
  /** A ULID, new for every request that changes something. */
  id: string;
  parent_id: string | null;
  /** The user behind the token that made the change; null for the fixture's own states. */
  user_id: string | null;
}

/** A state object as `GET /api/states/<entity_id>` answers it (`State.as_dict`). */
export interface HaState {
  entity_id: string;
  state: string;
  attributes: JsonObject;
  /** When `state` last changed (ISO 8601 with microseconds and +00:00, as HA writes it). */
  last_changed: string;
  /** When the state was last written, even if nothing changed. */
  last_reported: string;
  /** When `state` or `attributes` last changed. */
  last_updated: string;
  context: HaContext;
}

/** An area of the home. HA's REST states carry no area: templates (`area_entities`) expose it. */
export interface HaArea {
  /** The area id, e.g. `living_room`. */
  id: string;
  /** The display name, e.g. `Living Room`. */
  name: string;
}

/** One entity of a home fixture. */
export interface HaEntity {
  entity_id: string;
  state: string;
  attributes?: JsonObject;
  /** The id of the area it is in, if any. */
  area?: string;
}

/** A home to simulate: its name, areas and entities. */
export interface HaHome {
  location_name: string;
  areas: HaArea[];
  entities: HaEntity[];
}

/** Faults to inject; they apply to every request under /api (not the /_sim control endpoints). */
export interface HaFaultPlan {
  /** Delay every answer by this many milliseconds. */
  slowMs?: number;
  /** Drop every connection without an answer, so clients see a network error as from a dead HA. */
  down?: boolean;
}

/** One request the simulator received, when `recordRequests` is on. */
export interface HaRecordedRequest {
  method: string;
  /** The path without the query. */
  path: string;
  /** The query string without `?`, '' if none. */
  query: string;
  /** The raw body text. */
  body: string;
  /** Whether it carried a valid token. */
  authorized: boolean;
  receivedAt: number;
}

/** Options of `startHaSim`. */
export interface HaSimOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Long-lived access tokens accepted as `Authorization: Bearer <token>` (default: DEFAULT_TOKEN). */
  tokens?: string[];
  /** The home to simulate (default: DEFAULT_HOME). */
  home?: HaHome;
  /** The version `/api/config` reports. */
  version?: string;
  /** Keep a log of the requests received (`sim.requests()`, `GET /_sim/requests`). */
  recordRequests?: boolean;
  /** Faults active from the start. */
  faults?: HaFaultPlan;
  /** The clock, for tests that need fixed timestamps (default: Date.now). */
  now?: () => number;
}

/** A running simulator. */
export interface HaSim {
  /** Base URL, e.g. `http://127.0.0.1:8123`. */
  url: string;
  port: number;
  /** A token the simulator accepts. */
  token: string;
  /** The current state of an entity, or undefined. */
  state(entityId: string): HaState | undefined;
  /** The recorded requests, oldest first (empty unless `recordRequests`). */
  requests(): HaRecordedRequest[];
  /** Forgets the recorded requests. */
  clearRequests(): void;
  /** Replaces the active faults. */
  setFaults(plan: HaFaultPlan): void;
  /** Stops listening and drops open connections; safe to call twice. */
  close(): Promise<void>;
}
