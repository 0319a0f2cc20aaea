/** /allerac/v1/node, /peers, /pairing and /route: this node, its peers, pairing, routing. */
import { type Static, Type } from '@sinclair/typebox';
import { CardBackend, Hardware, Load } from './card.js';
import { Closed, type Equals, IsoTime, Nullable, RequiredText } from './schema.js';

/** The local Ollama's health as this node sees it. */
export const BackendHealth = Closed({
  state: Type.Union([Type.Literal('up'), Type.Literal('unreachable'), Type.Literal('unknown')]),
  url: Type.String(),
  version: Type.Optional(Type.String()),
  /** Why the last check failed, while unreachable. */
  error: Type.Optional(Type.String()),
  checkedAt: Type.Optional(Type.Number()),
});
export type BackendHealth = Static<typeof BackendHealth>;

/** GET /allerac/v1/node: this node as its own card describes it. */
export const NodeInfo = Closed({
  /** Its peer id; null while the mesh is not running. */
  id: Nullable(Type.String()),
  name: Type.String(),
  version: Type.String(),
  status: Type.Literal('online'),
  backend: BackendHealth,
  models: Type.Array(Type.String()),
  loadedModels: Type.Array(Type.String()),
  hardware: Nullable(Hardware),
  load: Nullable(Load),
  specializations: Type.Array(Type.String()),
  addresses: Type.Array(Type.String()),
  store: Closed({
    kind: Type.String(),
    conversations: Type.Number(),
    messages: Type.Number(),
    memories: Type.Number(),
  }),
});
export type NodeInfo = Static<typeof NodeInfo>;

/** One peer of GET /allerac/v1/peers (this node excluded). */
export const PeerSummary = Closed({
  id: Type.String(),
  /** Unique in the home: a name two nodes share comes with a short suffix of the id. */
  name: Type.String(),
  /** True when another node publishes the same name; the UI then asks for a rename. */
  nameClash: Type.Boolean(),
  status: Type.Union([Type.Literal('online'), Type.Literal('gone')]),
  version: Type.String(),
  models: Type.Array(Type.String()),
  loadedModels: Type.Array(Type.String()),
  hardware: Hardware,
  backend: CardBackend,
  load: Load,
  specializations: Type.Array(Type.String()),
  lastSeen: IsoTime,
  rttMs: Nullable(Type.Number()),
  addresses: Type.Array(Type.String()),
});
export type PeerSummary = Static<typeof PeerSummary>;

/** GET /allerac/v1/peers. */
export const PeerList = Type.Array(PeerSummary);
export type PeerList = Static<typeof PeerList>;

/** A peer id or name in a path. */
export const PeerParams = Type.Object({ id: RequiredText(256) });
export type PeerParams = Static<typeof PeerParams>;

/** DELETE /allerac/v1/peers/:id: the peer is blocked and the mesh key rotated. */
export const PeerRemoved = Closed({
  removed: Type.String(),
  name: Type.String(),
  keyRotated: Type.Literal(true),
});
export type PeerRemoved = Static<typeof PeerRemoved>;

/** POST /allerac/v1/pairing/invitations: a short-lived, single-use join code for one machine. */
export const PairingInvitation = Closed({
  id: Type.String(),
  /** `ALRC-` and six groups of five characters; see docs/protocol.md, "Invitations". */
  code: Type.String(),
  expiresAt: IsoTime,
  /** Seconds it is valid for from now, for a countdown that does not trust the client's clock. */
  ttlSeconds: Type.Integer({ minimum: 0 }),
});
export type PairingInvitation = Static<typeof PairingInvitation>;

/** POST /allerac/v1/pairing/join and /allerac/v1/setup/join. */
export const JoinBody = Type.Object({ code: RequiredText(200) });
export type JoinBody = Static<typeof JoinBody>;

/** POST /allerac/v1/pairing/join: the node that made the code, whose home this node has joined. */
export const PairingJoined = Closed({
  joined: Type.Literal(true),
  inviter: Closed({ id: Type.String(), name: Type.String() }),
});
export type PairingJoined = Static<typeof PairingJoined>;

/** One candidate of GET /allerac/v1/route, best first. */
/** Every term of a placement's estimate (the router's CompletionEstimate), times in ms. */
export const RouteTerms = Closed({
  totalMs: Type.Number(),
  waitMs: Type.Number(),
  /** Waiting for the requests on a runner that must unload first (another num_ctx, or room). */
  drainMs: Type.Number(),
  /** Requests running there that the drain waits for. */
  drainRequests: Type.Number(),
  loadMs: Type.Number(),
  /** Why the model counts as warm or cold there. */
  loadState: Type.Union([
    Type.Literal('loaded'),
    Type.Literal('not loaded'),
    Type.Literal('expired'),
    Type.Literal('num_ctx differs'),
  ]),
  modelBytes: Type.Number(),
  loadBytesPerSecond: Type.Number(),
  loadSource: Type.Union([Type.Literal('measured'), Type.Literal('guessed')]),
  ttftMs: Type.Number(),
  promptTokens: Type.Number(),
  /** Prompt tokens that node's KV cache holds from this conversation's previous turn. */
  cachedTokens: Type.Number(),
  promptEvalMs: Type.Number(),
  promptTokensPerSecond: Type.Number(),
  promptSource: Type.Union([Type.Literal('measured'), Type.Literal('derived'), Type.Literal('guessed')]),
  generateMs: Type.Number(),
  tokensPerSecond: Type.Number(),
  tokensPerSecondSource: Type.Union([
    Type.Literal('measured'),
    Type.Literal('derived'),
    Type.Literal('claimed'),
    Type.Literal('guessed'),
  ]),
  ttftSource: Type.Union([Type.Literal('measured'), Type.Literal('modelled')]),
  rttMs: Type.Number(),
});
export type RouteTerms = Static<typeof RouteTerms>;

export const RouteCandidate = Closed({
  rank: Type.Integer({ minimum: 1 }),
  id: Type.String(),
  name: Type.String(),
  model: Type.String(),
  eligible: Type.Boolean(),
  /** Expected time to finish in ms; null when the node cannot serve at all. */
  estimateMs: Nullable(Type.Number()),
  reason: Type.String(),
  /** The estimate term by term; absent when the node does not have the model. */
  terms: Type.Optional(RouteTerms),
});
export type RouteCandidate = Static<typeof RouteCandidate>;

/** GET /allerac/v1/route. */
export const RouteRanking = Type.Array(RouteCandidate);
export type RouteRanking = Static<typeof RouteRanking>;

// The types the node's own modules declare under these names are these, field for field, so the
// package index exports one of each and the web cannot tell them apart.
const pinned: [
  Equals<BackendHealth, import('../backend/backend.js').BackendHealth>,
  Equals<PeerSummary, import('../mesh-runtime.js').PeerSummary>,
] = [true, true];
void pinned;
