/** Wire messages of the mesh: discriminated unions on `type`, one union per protocol. */

/** One GPU of a node. Sizes are bytes. */
export interface GpuInfo {
  /** Vendor and model, as the OS reports it. */
  model: string;
  /** Total video memory in bytes (0 when unknown or shared with system RAM). */
  vramTotal: number;
  /** Free video memory in bytes (0 when unknown). */
  vramFree: number;
}

/** A node's hardware. Sizes are bytes. */
export interface HardwareInfo {
  /** CPU brand and model. */
  cpuModel: string;
  /** Logical cores. */
  cores: number;
  /** Physical RAM in bytes. */
  ramTotal: number;
  /** RAM available to new processes, in bytes. */
  ramFree: number;
  /** Swap in bytes, when the node reports it. */
  swapTotal?: number;
  /** Free swap in bytes, when the node reports it. */
  swapFree?: number;
  /** GPUs, possibly none. */
  gpus: GpuInfo[];
  /** Free bytes on the filesystem holding the node's data directory. */
  diskFree: number;
}

/** State of the node's local inference backend (Ollama). */
export interface BackendInfo {
  /** Whether the backend answered its last health check. */
  state: 'up' | 'down';
  /** Backend URL as the node sees it; informative only. */
  url?: string;
  /** Backend version string, when it reports one. */
  version?: string;
}

/** One model the node's backend has installed. */
export interface ModelInfo {
  /** Full Ollama name with tag, e.g. `llama3.2:3b`. */
  name: string;
  /** Size on disk in bytes, a proxy for the memory it needs. */
  sizeBytes: number;
  /** Model family, e.g. `llama`; empty when unknown. */
  family: string;
  /** Parameter size as Ollama reports it, e.g. `3.2B`; empty when unknown. */
  parameterSize: string;
  /** Quantization level, e.g. `Q4_K_M`; empty when unknown. */
  quantization: string;
  /** Whether the model is loaded in memory now. */
  loaded: boolean;
  /** Context length it is loaded with (/api/ps `context_length`); only when loaded. */
  contextLength?: number;
  /** When the backend will unload it (/api/ps `expires_at`), ms since the epoch; only when loaded. */
  expiresAt?: number;
  /** What it can do, e.g. `completion`, `embedding`, `tools`, `vision`. */
  capabilities?: string[];
}

/** Live load of a node. */
export interface LoadInfo {
  /** Inference tasks running now. */
  activeTasks: number;
  /** Tasks waiting for a slot. */
  queueDepth: number;
  /** Tasks the node runs in parallel. */
  slots: number;
  /** Measured generation speed per model name, tokens per second. */
  tokensPerSecond: Record<string, number>;
}

/** A node's capability card: what it is, what it has and how busy it is. */
export interface NodeCard {
  /** Human name of the node, e.g. `kitchen`. */
  name: string;
  /** The node's libp2p peer id (base58btc); must equal the connection's remote peer. */
  peerId: string;
  /** Version of the node software. */
  softwareVersion: string;
  /** Wire protocol version, PROTOCOL_VERSION. */
  protocolVersion: string;
  /** Hardware. */
  hardware: HardwareInfo;
  /** Local backend state. */
  backend: BackendInfo;
  /** Installed models. */
  models: ModelInfo[];
  /** Live load. */
  load: LoadInfo;
  /** What the node's agent is meant for, e.g. `code`, `research`, `creative`, `home`. */
  specializations: string[];
  /**
   * MAC addresses of the node's home-LAN interfaces (private or link-local IPv4; no loopback or
   * virtual bridges), lowercase `aa:bb:cc:dd:ee:ff`, so a peer can wake it; absent on old nodes.
   */
  macs?: string[];
  /** Whether the node accepts being woken by a Wake-on-LAN magic packet. */
  wakeOnLan?: boolean;
  /** Whether the home prefers this node while it is on (e.g. the gaming PC), waking it if need be. */
  preferredWhenOn?: boolean;
  /** When the card was made, milliseconds since the Unix epoch. */
  issuedAt: number;
  /** Sequence number, increasing with every card the node issues during one run. */
  seq: number;
}

/** The first frame on a card stream: the sender's signed card. */
export interface CardMessage {
  type: 'card';
  /** The card. */
  card: NodeCard;
  /** Base64 Ed25519 signature of the card's canonical JSON by the sender's peer key. */
  signature: string;
}

/** A later card that replaces the previous one; its `seq` must be higher. */
export interface CardUpdateMessage {
  type: 'card-update';
  /** The whole new card. */
  card: NodeCard;
  /** Base64 Ed25519 signature of the card's canonical JSON by the sender's peer key. */
  signature: string;
}

/** Proof of life on the card stream, sent every HEARTBEAT_INTERVAL_MS. */
export interface HeartbeatMessage {
  type: 'heartbeat';
  /** Counter of heartbeats on this stream. */
  seq: number;
  /** Sender's clock, ms since the Unix epoch; informative only. */
  sentAt: number;
}

/** The sender is stopping; the receiver marks it gone at once. */
export interface LeaveMessage {
  type: 'leave';
  /** Why, for logs: e.g. `shutdown`, `key-rotation`. */
  reason?: string;
}

/** Messages of CARD_PROTOCOL. */
export type CardProtocolMessage = CardMessage | CardUpdateMessage | HeartbeatMessage | LeaveMessage;

/**
 * A mesh-key rotation as its issuer signed it: the act of removing one peer from the home. It names
 * the new key only by its id, so the record can be shown to a node that must not learn the key.
 */
export interface KeyRotation {
  /** Peer id of the node whose admin removed a peer; its identity key signs the record. */
  issuer: string;
  /** The key epoch this rotation starts: exactly one above the epoch of the key it replaces. */
  epoch: number;
  /** `meshKeyId` of the new key. */
  keyId: string;
  /** `meshKeyId` of the key it replaces: a receiver holding another key refuses it. */
  previousKeyId: string;
  /** The whole blocklist after the rotation: the previous one plus exactly one peer id. */
  blocked: string[];
  /** When the issuer made it, ms since the Unix epoch; receivers refuse one far from their clock. */
  issuedAt: number;
}

/** A rotation with its issuer's signature. */
export interface SignedKeyRotation {
  /** The record. */
  rotation: KeyRotation;
  /** Base64 Ed25519 signature by the issuer's peer key over `keyRotationSigningBytes(rotation)`. */
  signature: string;
}

/** A rotation delivered by its issuer, with the new key, over the existing encrypted connection. */
export interface KeyRotateMessage extends SignedKeyRotation {
  type: 'key-rotate';
  /** The new 32-byte pre-shared key, 64 lowercase hex digits; its id must be `rotation.keyId`. */
  newKey: string;
}

/** Asks whether the receiver holds a rotation; also tells it that the sender holds that one. */
export interface KeyCheckMessage {
  type: 'key-check';
  /** Epoch of the rotation. */
  epoch: number;
  /** `keyRotationDigest` of the rotation the sender holds for that epoch. */
  digest: string;
}

/** Asks for the rotation that introduced the receiver's current key (a freshly joined node catches up). */
export interface KeyStateMessage {
  type: 'key-state';
}

/**
 * Tells a node still on a retired key which rotation retired it. It carries no key: the node must
 * join again with a fresh code. Sent over a connection made with the retired key.
 */
export interface KeyNoticeMessage extends SignedKeyRotation {
  type: 'key-notice';
}

/** Answers one key request. */
export interface KeyAckMessage {
  type: 'key-ack';
  /** The receiver's current key epoch; absent when it does not know it (freshly joined). */
  epoch?: number;
  /** `keyRotationDigest` of the rotation the receiver holds for the asked epoch, if any. */
  holds?: string;
  /** Why a `key-rotate` or `key-notice` was refused, e.g. `epoch`, `blocklist`, `not-trusted`. */
  refused?: string;
  /** Answer to `key-state`: the rotation that introduced the receiver's key (none at epoch 0). */
  current?: SignedKeyRotation;
}

/** Messages of KEY_PROTOCOL. */
export type KeyProtocolMessage =
  | KeyRotateMessage
  | KeyCheckMessage
  | KeyStateMessage
  | KeyNoticeMessage
  | KeyAckMessage;

/**
 * Which Ollama API an inference request follows. `show` (one model's /api/show record) and `ps`
 * (the responder's /api/ps) are answered with one chunk, take no inference slot, and let a node
 * serve a peer's models in full without carrying their metadata in every card.
 */
export type InferApi = 'chat' | 'generate' | 'embed' | 'show' | 'ps';

/** Asks a peer to run one inference; the stream then carries its answer. */
export interface InferRequestMessage {
  type: 'infer-request';
  /** Request id chosen by the caller, unique per caller; 1 to 128 characters. */
  id: string;
  /** Which Ollama endpoint the body is for. */
  api: InferApi;
  /** Model to run, as resolved by the caller; `*` for `ps`, which concerns every model. */
  model: string;
  /** The Ollama request JSON (for /api/chat, /api/generate, /api/embed or /api/show; `{}` for `ps`). */
  body: Record<string, unknown>;
  /** Milliseconds the responder has to finish; it answers `deadline` after that. */
  deadlineMs: number;
  /**
   * How many peers already failed this request; informative. Never set by this implementation
   * and ignored by its responders; kept only so that version 1 peers that send it validate.
   */
  failovers?: number;
}

/** One streamed piece of the answer. */
export interface InferChunkMessage {
  type: 'infer-chunk';
  /** Request id. */
  id: string;
  /** One Ollama NDJSON object, as the backend produced it. */
  chunk: Record<string, unknown>;
}

/** Final statistics of a finished inference. Durations are nanoseconds, as in Ollama. */
export interface InferStats {
  /** Whole request. */
  totalDurationNs?: number;
  /** Model load. */
  loadDurationNs?: number;
  /** Prompt tokens evaluated. */
  promptEvalCount?: number;
  /** Prompt evaluation time. */
  promptEvalDurationNs?: number;
  /** Tokens generated. */
  evalCount?: number;
  /** Generation time. */
  evalDurationNs?: number;
}

/** The answer is complete; nothing more follows for this request. */
export interface InferDoneMessage {
  type: 'infer-done';
  /** Request id. */
  id: string;
  /**
   * Final statistics. Version 1 always sends them; version 2 omits them, because Ollama's final
   * chunk, which the requester already holds, carries the same numbers.
   */
  stats?: InferStats;
}

/** Why an inference failed. */
export type InferErrorCode =
  | 'busy'
  | 'model-not-found'
  | 'backend-unavailable'
  | 'bad-request'
  | 'internal'
  | 'cancelled'
  | 'deadline';

/** The inference failed; nothing follows on the stream. */
export interface InferErrorMessage {
  type: 'infer-error';
  /** Request id. */
  id: string;
  /** Machine-readable reason. */
  code: InferErrorCode;
  /** Human-readable detail. */
  message: string;
  /** Whether another peer may succeed with the same request. */
  retryable: boolean;
  /**
   * The HTTP status the responder's Ollama answered with (400 to 599), when the error is its
   * Ollama's: the caller answers its client with the same status and `message`.
   */
  status?: number;
}

/** The caller no longer wants the answer; the responder stops generating. */
export interface InferCancelMessage {
  type: 'infer-cancel';
  /** Request id. */
  id: string;
}

/**
 * Version 2 only: the requester has consumed `chunks` more chunks of a request, so the responder
 * may send that many more (INFER_CHUNK_WINDOW at the start).
 */
export interface InferCreditMessage {
  type: 'infer-credit';
  /** Request id. */
  id: string;
  /** Chunks granted, 1 to INFER_CHUNK_WINDOW. */
  chunks: number;
}

/** Messages of INFER_PROTOCOL and INFER_CHANNEL_PROTOCOL (which alone carries `infer-credit`). */
export type InferProtocolMessage =
  | InferRequestMessage
  | InferChunkMessage
  | InferDoneMessage
  | InferErrorMessage
  | InferCancelMessage
  | InferCreditMessage;

/** Opens a sync stream: the shared spaces the sender holds and may share with the receiver. */
export interface SyncHelloMessage {
  type: 'sync-hello';
  /** Space names, each 1 to 128 characters. */
  spaces: string[];
}

/** One Automerge sync message for one space. */
export interface SyncMessageMessage {
  type: 'sync-message';
  /** Space name. */
  space: string;
  /** Base64 (RFC 4648, with padding) of the Automerge sync message bytes. */
  data: string;
  /**
   * The space document's epoch (0 when absent). It increases when a space's history is purged;
   * a receiver at a lower epoch replaces its document instead of merging (packages/memory-sync).
   */
  epoch?: number;
}

/** The sender will not sync this space with the receiver. */
export interface SyncRefusedMessage {
  type: 'sync-refused';
  /** Space name. */
  space: string;
  /** Why: `not-allowed`, `unknown-space`, or free text. */
  reason: string;
}

/** Messages of SYNC_PROTOCOL. */
export type SyncProtocolMessage = SyncHelloMessage | SyncMessageMessage | SyncRefusedMessage;

/** Which Ollama model-management endpoint a model request follows. */
export type ModelAction = 'pull' | 'delete' | 'copy' | 'create';

/** Asks a peer to manage a model on its Ollama, for an admin of the sender's node. */
export interface ModelRequestMessage {
  type: 'model-request';
  /** Request id chosen by the caller; 1 to 128 characters. */
  id: string;
  /** Which endpoint the body is for: /api/pull, /api/delete, /api/copy or /api/create. */
  action: ModelAction;
  /** The Ollama request JSON, without Allerac's `allerac` options. */
  body: Record<string, unknown>;
  /** Where a pull gets the model (`allerac.source`): a peer of the home, the internet, or `auto` (absent). */
  source?: 'internet' | 'peer' | 'auto';
}

/** One progress object of a pull or create, exactly as Ollama streamed it. */
export interface ModelProgressMessage {
  type: 'model-progress';
  /** Request id. */
  id: string;
  /** Ollama's ProgressResponse (`status`, `digest`, `total`, `completed`). */
  progress: Record<string, unknown>;
}

/** The action succeeded; nothing follows on the stream. */
export interface ModelDoneMessage {
  type: 'model-done';
  /** Request id. */
  id: string;
}

/** The action failed; nothing follows on the stream. */
export interface ModelErrorMessage {
  type: 'model-error';
  /** Request id. */
  id: string;
  /** The HTTP status Ollama answered (or would), e.g. 404 for an unknown model, 500 for a failed pull. */
  status: number;
  /** Ollama's error text. */
  message: string;
}

/** Messages of MODEL_PROTOCOL. */
export type ModelProtocolMessage =
  | ModelRequestMessage
  | ModelProgressMessage
  | ModelDoneMessage
  | ModelErrorMessage;

/**
 * Asks a peer for one thing in its Ollama models directory: a manifest by name (`manifest`), or a
 * blob by digest (`blob`), whole or a byte range. `head` asks for the size only.
 */
export interface ModelsGetMessage {
  type: 'models-get';
  kind: 'manifest' | 'blob';
  /** Registry host of a manifest, e.g. `registry.ollama.ai`. */
  host?: string;
  /** Namespace of a manifest, e.g. `library`. */
  namespace?: string;
  /** Model of a manifest, e.g. `llama3.2`. */
  model?: string;
  /** Tag of a manifest, e.g. `3b`. */
  tag?: string;
  /** Digest of a blob, `sha256:<64 hex>`. */
  digest?: string;
  /** First byte of the range; 0 when absent. */
  offset?: number;
  /** Bytes of the range; to the end when absent. */
  length?: number;
  /** Only the size: no bytes follow the reply. */
  head?: boolean;
  /**
   * A blob range asked over the bulk lane: a holder that offers one answers with a `lane`
   * ticket and no bytes; one that does not (an older node) ignores the field and sends the bytes.
   */
  lane?: boolean;
}

/** A one-time ticket for the bulk lane: a TLS 1.3 PSK connection that carries one blob range. */
export interface ModelsLaneTicket {
  /** TCP port of the holder's lane, on the host of the mesh connection. */
  port: number;
  /** PSK identity: 32 lowercase hex, random. */
  identity: string;
  /** The 32-byte key, base64. */
  key: string;
  /** Bytes the lane carries, then it ends. */
  length: number;
}

/** The answer to a `models-get`: exactly `length` raw bytes follow it, then the stream ends. */
export interface ModelsReplyMessage {
  type: 'models-reply';
  /** 200 found, 206 a range, 400 a bad request, 404 unknown, 416 a range outside the blob, 503 unreadable. */
  status: number;
  /** Size of the whole manifest or blob (0 when not found). */
  size: number;
  /** Raw bytes that follow this frame. */
  length: number;
  /** Why it failed, for a status >= 400. */
  error?: string;
  /** The range comes over the bulk lane instead (`length` is then 0). */
  lane?: ModelsLaneTicket;
}

/** Messages of MODELS_PROTOCOL. */
export type ModelsProtocolMessage = ModelsGetMessage | ModelsReplyMessage;

/** Every wire message. */
export type Message =
  | CardProtocolMessage
  | KeyProtocolMessage
  | InferProtocolMessage
  | SyncProtocolMessage
  | ModelProtocolMessage
  | ModelsProtocolMessage;

/** The `type` of every wire message. */
export type MessageType = Message['type'];
