/**
 * /allerac/v1/dashboard, /system/history, /events (server-sent events), /models and /backend:
 * the dashboard's data, live samples, and model pulls and deletes.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Hardware } from './card.js';
import { BackendHealth, NodeInfo, PeerList } from './management.js';
import { Closed, type Equals, Nullable, RequiredText } from './schema.js';

/** One sample of this machine's health, every 2 s. */
export const SystemSample = Closed({
  /** Milliseconds since the epoch. */
  at: Type.Number(),
  /** CPU use, 0-100. */
  cpu: Type.Number(),
  ramTotal: Type.Number(),
  /** RAM in use, not counting reclaimable cache. */
  ramUsed: Type.Number(),
  swapTotal: Type.Number(),
  swapUsed: Type.Number(),
  diskTotal: Type.Number(),
  diskUsed: Type.Number(),
  /** Main CPU temperature in °C, or null where the OS does not expose it. */
  temperature: Nullable(Type.Number()),
});
export type SystemSample = Static<typeof SystemSample>;

/** GET /allerac/v1/system/history, and the `history` event: the recent samples, oldest first. */
export const SystemHistory = Closed({ samples: Type.Array(SystemSample) });
export type SystemHistory = Static<typeof SystemHistory>;

/** A model of the local Ollama, as the dashboard lists it. */
export const DashboardModel = Closed({
  name: Type.String(),
  size: Type.Number(),
  parameterSize: Nullable(Type.String()),
  quantization: Nullable(Type.String()),
  loaded: Type.Boolean(),
});
export type DashboardModel = Static<typeof DashboardModel>;

/** GET /allerac/v1/dashboard. */
export const Dashboard = Closed({
  node: Closed({ name: Type.String(), version: Type.String(), uptimeSeconds: Type.Number() }),
  /** This machine's hardware, in the card's shape; null when it could not be probed. */
  hardware: Nullable(Hardware),
  ollama: Closed({
    state: BackendHealth.properties.state,
    url: Type.String(),
    version: Nullable(Type.String()),
    error: Nullable(Type.String()),
    models: Type.Array(DashboardModel),
  }),
  database: Closed({
    kind: Type.String(),
    sizeBytes: Nullable(Type.Number()),
    conversations: Type.Number(),
    messages: Type.Number(),
    memories: Type.Number(),
  }),
});
export type Dashboard = Static<typeof Dashboard>;

/** POST /allerac/v1/models/pull: the model to pull into the local Ollama. */
export const ModelPullBody = Type.Object({ model: RequiredText(200) });
export type ModelPullBody = Static<typeof ModelPullBody>;

/** A `progress` event of a pull: Ollama's own progress object, passed on as it comes. */
export const PullProgress = Type.Object({
  status: Type.String(),
  digest: Type.Optional(Type.String()),
  total: Type.Optional(Type.Number()),
  completed: Type.Optional(Type.Number()),
});
export type PullProgress = Static<typeof PullProgress>;

/** The events of POST /allerac/v1/models/pull, by event name. */
export interface PullEvents {
  progress: PullProgress;
  /** The pull finished. */
  done: { model: string };
  /** The pull failed; the stream then ends. */
  error: { error: string };
}

/** The events of GET /allerac/v1/events, by event name; `history` and `system` go to admins only. */
export interface LiveEvents {
  history: SystemHistory;
  system: SystemSample;
  peers: PeerList;
  node: NodeInfo;
}

/** The schema of each live event's data, for checking a stream. */
export const LIVE_EVENT_SCHEMAS = {
  history: SystemHistory,
  system: SystemSample,
  peers: PeerList,
  node: NodeInfo,
} as const;

// The sampler's own type is this one, field for field (the package index exports that one).
const pinned: Equals<SystemSample, import('../system/hardware.js').SystemSample> = true;
void pinned;
