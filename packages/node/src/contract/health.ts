/** GET /health: public, for monitors and for the UI's mesh-key warning. */
import { type Static, Type } from '@sinclair/typebox';
import { BackendHealth } from './management.js';
import { ModelSharing } from './models-transfers.js';
import { Closed, IsoTime, Nullable } from './schema.js';

/** This node's standing with the home's mesh key. */
export const MeshKeyState = Type.Union([
  Type.Literal('current'),
  /** After a join, until the epoch is learnt from the peers. */
  Type.Literal('joining'),
  /** The home rotated the key while this node was away: join again with a fresh code. */
  Type.Literal('out-of-date'),
  /** That rotation removed this node. */
  Type.Literal('removed'),
  Type.Literal('stopped'),
]);
export type MeshKeyState = Static<typeof MeshKeyState>;

/** GET /health. */
export const Health = Closed({
  /** `degraded` while Ollama or the store is not serving. */
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  healthy: Type.Literal(true),
  name: Type.String(),
  version: Type.String(),
  uptimeSeconds: Type.Number(),
  backend: BackendHealth,
  store: Closed({
    kind: Type.String(),
    state: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    reason: Type.Optional(Type.String()),
    since: IsoTime,
  }),
  mesh: Closed({ state: MeshKeyState, epoch: Nullable(Type.Number()) }),
  /** Whether peers can copy this node's models; absent on a node without model sharing. */
  models: Type.Optional(ModelSharing),
});
export type Health = Static<typeof Health>;
