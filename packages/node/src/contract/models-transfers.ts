/** GET /allerac/v1/models/transfers: the model copies and pulls this node runs or ran lately. */
import { type Static, Type } from '@sinclair/typebox';
import { Closed } from './schema.js';

/** Where a transfer stands: bytes moving, Ollama checking the sha256 digests, or its end. */
export const ModelTransferStatus = Type.Union([
  Type.Literal('copying'),
  Type.Literal('verifying'),
  Type.Literal('done'),
  Type.Literal('failed'),
]);
export type ModelTransferStatus = Static<typeof ModelTransferStatus>;

/** One copy of a model onto this node. */
export const ModelTransfer = Closed({
  id: Type.String(),
  /** The model as this node lists it once copied. */
  model: Type.String(),
  /** The node it comes from (its name). */
  node: Type.String(),
  source: Type.Union([Type.Literal('peer'), Type.Literal('internet')]),
  /** Bytes received so far (blobs already held count as received). */
  completed: Type.Number(),
  /** Bytes of every blob of the model, once known; 0 before. */
  total: Type.Number(),
  status: ModelTransferStatus,
  error: Type.Optional(Type.String()),
  /** ms since the epoch. */
  startedAt: Type.Number(),
  updatedAt: Type.Number(),
});
export type ModelTransfer = Static<typeof ModelTransfer>;

/** GET /allerac/v1/models/transfers takes no query. */
export const ModelTransfersQuery = Type.Object({}, { additionalProperties: false });
export type ModelTransfersQuery = Static<typeof ModelTransfersQuery>;

/** GET /allerac/v1/models/transfers: newest first. */
export const ModelTransfers = Closed({ transfers: Type.Array(ModelTransfer) });
export type ModelTransfers = Static<typeof ModelTransfers>;

/** Whether this node can share its Ollama's models with peers, in /health. */
export const ModelSharing = Closed({
  sharing: Type.Boolean(),
  /** Why not, when it cannot (the directory is missing or unreadable), without its path. */
  reason: Type.Optional(Type.String()),
});
export type ModelSharing = Static<typeof ModelSharing>;
