/**
 * The home's model manager: GET /allerac/v1/models/home (every model of the home against every
 * machine, with the placement advice) and POST /allerac/v1/models/home/delete (a delete that
 * refuses to drop the home's last copy of a model without `confirm`).
 */
import { type Static, Type } from '@sinclair/typebox';
import { Closed, RequiredText } from './schema.js';

/** GET /allerac/v1/models/home: `model` adds a model the home does not hold yet, to advise on a pull. */
export const HomeModelsQuery = Type.Object(
  {
    model: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        pattern: '^[A-Za-z0-9][A-Za-z0-9._:/-]*$',
        description: 'an Ollama model name, e.g. llama3.1:8b',
      }),
    ),
  },
  { additionalProperties: false },
);
export type HomeModelsQuery = Static<typeof HomeModelsQuery>;

/** One machine of the home (this node and the online peers). */
export const HomeMachine = Closed({
  /** Peer id, or `local` before the mesh has given this node one. */
  id: Type.String(),
  name: Type.String(),
  /** Whether this is the node that answered. */
  self: Type.Boolean(),
  ramTotalBytes: Type.Number(),
  ramFreeBytes: Type.Number(),
  gpuCount: Type.Integer(),
  vramTotalBytes: Type.Number(),
  vramFreeBytes: Type.Number(),
  /** Whether its Ollama answers; a machine without one can hold no model. */
  backendUp: Type.Boolean(),
});
export type HomeMachine = Static<typeof HomeMachine>;

/** A copy or pull under way onto one machine (from GET /allerac/v1/models/transfers). */
export const HomeTransfer = Closed({
  id: Type.String(),
  source: Type.String(),
  completed: Type.Number(),
  total: Type.Number(),
  status: Type.String(),
  error: Type.Optional(Type.String()),
});
export type HomeTransfer = Static<typeof HomeTransfer>;

/** How a model fits a machine: the router's memory-fit rule. */
export const FitVerdict = Type.Union([
  Type.Literal('fits'),
  Type.Literal('fits-after-unload'),
  Type.Literal('not-now'),
  Type.Literal('too-big'),
]);
export type FitVerdict = Static<typeof FitVerdict>;

/** One cell of the matrix: one model on one machine. */
export const HomeModelCell = Closed({
  /** Machine id. */
  node: Type.String(),
  present: Type.Boolean(),
  loaded: Type.Boolean(),
  verdict: FitVerdict,
  /** Size plus the safety margin, bytes. */
  neededBytes: Type.Number(),
  /** Free VRAM (GPU machine) or RAM, bytes. */
  freeBytes: Type.Number(),
  memory: Type.Union([Type.Literal('vram'), Type.Literal('ram')]),
  /** Bytes missing even after unloading the other models; 0 when it fits. */
  shortBytes: Type.Number(),
  /** The largest model of the home that fits this machine, when this one does not. */
  alternative: Type.Optional(Type.String()),
  /** A copy or pull onto this machine under way. */
  transfer: Type.Optional(HomeTransfer),
});
export type HomeModelCell = Static<typeof HomeModelCell>;

/** One model of the home with a cell per machine and its advice. */
export const HomeModel = Closed({
  name: Type.String(),
  sizeBytes: Type.Number(),
  sizeSource: Type.Union([Type.Literal('home'), Type.Literal('estimated'), Type.Literal('unknown')]),
  parameterSize: Type.String(),
  /** Machines that hold it. */
  copies: Type.Integer(),
  /** One cell per machine, in the order of `machines`. */
  cells: Type.Array(HomeModelCell),
  /** Where the model should live, when some machine fits it. */
  best: Type.Optional(Type.String({ description: 'machine id' })),
  /** The placement advice, one paragraph in English. */
  advice: Type.String(),
  /** Pulls that would not fit or would freeze a machine. */
  warnings: Type.Array(Type.String()),
});
export type HomeModel = Static<typeof HomeModel>;

/** GET /allerac/v1/models/home. */
export const HomeModels = Closed({
  machines: Type.Array(HomeMachine),
  /** Largest first; a model asked for with `?model=` and held nowhere comes with zero copies. */
  models: Type.Array(HomeModel),
});
export type HomeModels = Static<typeof HomeModels>;

/** POST /allerac/v1/models/home/delete. */
export const HomeDeleteRequest = Type.Object({
  model: RequiredText(256),
  /** Machine id or name. */
  node: RequiredText(256),
  /** Required to delete the last copy of a model in the home. */
  confirm: Type.Optional(Type.Boolean({ description: 'true to delete the last copy in the home' })),
});
export type HomeDeleteRequest = Static<typeof HomeDeleteRequest>;

/** The delete was done. */
export const HomeDeleted = Closed({
  model: Type.String(),
  node: Type.String(),
  /** Copies left in the home. */
  copiesLeft: Type.Integer(),
});
export type HomeDeleted = Static<typeof HomeDeleted>;
