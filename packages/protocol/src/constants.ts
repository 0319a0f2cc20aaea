/** Protocol ids and limits of the Allerac mesh. Every limit says why it has the value it has. */

/** Version of the wire protocol as a whole; it appears in every NodeCard. */
export const PROTOCOL_VERSION = '1.0.0';

/** Capability cards, their updates, heartbeats and leave: one long-lived stream each way per peer. */
export const CARD_PROTOCOL = '/allerac/card/1.0.0';
/**
 * Mesh-key rotation: one stream per request (`key-rotate`, `key-check`, `key-state` or
 * `key-notice`), each answered by one `key-ack`. Version 2 carries rotations signed by their
 * issuer; a 1.0.0 peer (unsigned rotations) is refused at negotiation.
 */
export const KEY_PROTOCOL = '/allerac/key/2.0.0';
/**
 * Inference, version 1: one stream per request, request and cancel one way, chunks and the end the
 * other. Still served for one release so older nodes can ask this one; callers use
 * INFER_CHANNEL_PROTOCOL.
 */
export const INFER_PROTOCOL = '/allerac/infer/1.0.0';
/**
 * Inference, version 2: one long-lived stream per peer pair and direction (the requester opens
 * it), carrying many requests tagged by id, each with its own cancel and its own credit window.
 * Opening a libp2p stream costs about 1.5 ms, so it leaves the request path.
 */
export const INFER_CHANNEL_PROTOCOL = '/allerac/infer/2.0.0';
/** Shared-memory sync: one long-lived stream per peer carrying Automerge sync messages. */
export const SYNC_PROTOCOL = '/allerac/sync/1.0.0';
/**
 * Model management on a peer's Ollama (pull, delete, copy, create): one stream per action, the
 * request one way, progress and the end the other. Only an admin's action, relayed by a paired peer.
 */
export const MODEL_PROTOCOL = '/allerac/model/1.0.0';
/**
 * Model copying: a registry carried on the mesh. One stream per request (`models-get` for a
 * manifest, a blob's size or a byte range of it), answered by one `models-reply` frame followed by
 * exactly its `length` raw bytes. Only paired peers reach it; the holder reads its Ollama models
 * directory.
 */
export const MODELS_PROTOCOL = '/allerac/models/1.0.0';
/**
 * The bulk lane's only cipher suite (TLS 1.3 with an external PSK, no certificates). OpenSSL ties a
 * PSK given through the callback API to SHA-256, so TLS_AES_256_GCM_SHA384 cannot be negotiated.
 */
export const MODELS_LANE_CIPHER = 'TLS_CHACHA20_POLY1305_SHA256';

/** Every protocol id this implementation speaks. */
export const PROTOCOLS = [
  CARD_PROTOCOL,
  KEY_PROTOCOL,
  INFER_PROTOCOL,
  INFER_CHANNEL_PROTOCOL,
  SYNC_PROTOCOL,
  MODEL_PROTOCOL,
  MODELS_PROTOCOL,
] as const;

/** One of the protocol ids above. */
export type ProtocolId = (typeof PROTOCOLS)[number];

/** Largest card frame: a card lists at most a few hundred models of ~300 bytes each. */
export const MAX_CARD_FRAME_BYTES = 64 * 1024;
/** Most MAC addresses a card may list: a machine has a handful of LAN interfaces, never more. */
export const MAX_CARD_MACS = 16;
/** Most peer ids a rotation's blocklist may hold: far more removals than a home will ever make. */
export const MAX_BLOCKED_PEERS = 256;
/** Largest key frame: a signed rotation with a full blocklist (256 ids of ~55 bytes) fits. */
export const MAX_KEY_FRAME_BYTES = 16 * 1024;
/**
 * Largest Ollama or OpenAI request body a node accepts over HTTP (several base64 images), and so
 * the largest body it forwards to a peer: one number, so whatever HTTP accepts can be forwarded.
 */
export const MAX_INFER_BODY_BYTES = 32 * 1024 * 1024;
/**
 * Room in an inference frame beside the body: the envelope, memories the caller adds for the
 * serving peer (a few 8 KiB texts) and JSON that re-encodes a little longer than it arrived.
 */
export const INFER_FRAME_OVERHEAD_BYTES = 1024 * 1024;
/** Largest inference frame: a request with the largest body HTTP accepts, plus its envelope. */
export const MAX_INFER_FRAME_BYTES = MAX_INFER_BODY_BYTES + INFER_FRAME_OVERHEAD_BYTES;
/** Largest sync frame: an initial Automerge sync of a few thousand memories, base64-encoded. */
export const MAX_SYNC_FRAME_BYTES = 8 * 1024 * 1024;
/** Largest model frame: a create request's Modelfile parts (template, system, messages) fit. */
export const MAX_MODEL_FRAME_BYTES = 1024 * 1024;
/** Largest models frame: a request or a reply header, a few hundred bytes of names and numbers. */
export const MAX_MODELS_FRAME_BYTES = 4 * 1024;
/** Largest manifest a holder sends: Ollama's are a few KiB (config plus a handful of layers). */
export const MAX_MODELS_MANIFEST_BYTES = 1024 * 1024;
/**
 * Largest byte range one `models-get` asks for: Ollama's puller asks for parts of 100 MB to 1 GB
 * (download.go's minDownloadPartSize and maxDownloadPartSize).
 */
export const MAX_MODELS_RANGE_BYTES = 1000 * 1000 * 1000;

/** Largest frame per protocol; a longer length prefix is refused before any payload is buffered. */
export const MAX_FRAME_BYTES: Readonly<Record<ProtocolId, number>> = {
  [CARD_PROTOCOL]: MAX_CARD_FRAME_BYTES,
  [KEY_PROTOCOL]: MAX_KEY_FRAME_BYTES,
  [INFER_PROTOCOL]: MAX_INFER_FRAME_BYTES,
  [INFER_CHANNEL_PROTOCOL]: MAX_INFER_FRAME_BYTES,
  [SYNC_PROTOCOL]: MAX_SYNC_FRAME_BYTES,
  [MODEL_PROTOCOL]: MAX_MODEL_FRAME_BYTES,
  // Only the request and the reply header are frames; the bytes that follow are raw.
  [MODELS_PROTOCOL]: MAX_MODELS_FRAME_BYTES,
};

/** Largest frame any protocol allows; decoders that do not know the protocol use it. */
export const MAX_ANY_FRAME_BYTES = MAX_INFER_FRAME_BYTES;

/** A length prefix longer than this many bytes is malformed: 4 varint bytes cover 256 MiB. */
export const MAX_LENGTH_PREFIX_BYTES = 4;

/**
 * Concurrent inbound streams per peer and protocol. Card and sync need one each way (two leaves
 * room for a reconnect overlapping the old stream); key allows a rotation, its corroboration
 * check and a state query at once; inference allows a household's parallel chats.
 */
export const MAX_INBOUND_STREAMS: Readonly<Record<ProtocolId, number>> = {
  [CARD_PROTOCOL]: 2,
  [KEY_PROTOCOL]: 4,
  [INFER_PROTOCOL]: 32,
  // One channel each way is all a peer needs; the second lets a new one overlap a dying one.
  [INFER_CHANNEL_PROTOCOL]: 2,
  [SYNC_PROTOCOL]: 4,
  // One action at a time per peer; the second stream is there to be refused with a clear `busy`.
  [MODEL_PROTOCOL]: 2,
  // Ollama's puller runs up to 16 Range parts of one blob at once (numDownloadParts), plus a HEAD.
  [MODELS_PROTOCOL]: 17,
};

/**
 * Requests in flight at once on one inference channel: a household's parallel chats, and a burst
 * of 64 from one client (the benchmark's), which one Ollama would queue rather than refuse. A
 * caller never sends more; a responder answers the excess `busy`.
 */
export const MAX_INFER_IN_FLIGHT = 64;
/**
 * Chunks a responder may send for one request before the requester grants more credit. At 5,000
 * tokens/s and a 1 ms LAN round trip, 5 chunks are in flight; 32 (a few KiB of text) keeps the
 * stream full with credit granted every half window, while a stalled reader holds at most that.
 */
export const INFER_CHUNK_WINDOW = 32;
/**
 * After `infer-cancel` a requester waits this long for the responder's closing frame before it
 * forgets the request (and drops any late frames for it).
 */
export const INFER_CANCEL_GRACE_MS = 10_000;

/** More stream opens than this from one peer within STREAM_FLOOD_WINDOW_MS is a flood. */
export const MAX_STREAM_OPENS_PER_WINDOW = 64;
/**
 * Inference streams are one per request, so a busy household legitimately opens many; they are
 * bounded by MAX_INBOUND_STREAMS and the node's queue, and only a rate far above any real client
 * counts as a flood.
 */
export const MAX_INFER_OPENS_PER_WINDOW = 5_000;
/** Window over which stream opens are counted for flood detection. */
export const STREAM_FLOOD_WINDOW_MS = 10_000;

/** The first frame of a stream must arrive within this: an idle opener is holding a slot. */
export const FIRST_FRAME_TIMEOUT_MS = 5_000;
/** Once a frame's first byte is in, the rest must follow within this: defeats slowloris peers. */
export const FRAME_COMPLETION_TIMEOUT_MS = 5_000;
/** Interval between heartbeats on the card stream; liveness is judged from them. */
export const HEARTBEAT_INTERVAL_MS = 1_000;
/** A peer silent for this many heartbeat intervals is marked gone (2.5 s at the default). */
export const HEARTBEAT_MISS_THRESHOLD = 2.5;
/** Load-only card changes go out at most this often. */
export const CARD_UPDATE_MIN_INTERVAL_MS = 1_000;
/** A key request must be acknowledged within this, or the sender counts that peer as not holding. */
export const KEY_ACK_TIMEOUT_MS = 5_000;
/**
 * A receiver that cannot see a rotation corroborated by a majority of its peers within this
 * abandons it. Twice the ack timeout, so a peer that the issuer reached late still counts.
 */
export const KEY_ROTATION_SETTLE_MS = 2 * KEY_ACK_TIMEOUT_MS;
/**
 * A rotation's `issuedAt` may differ from the receiver's clock by at most this: it is delivered at
 * once, so an old one is a replay. Generous because home machines' clocks drift without NTP.
 */
export const KEY_ROTATION_MAX_SKEW_MS = 10 * 60_000;
/** First back-off of a misbehaving peer; it doubles on each repeat offence. */
export const MISBEHAVIOUR_BACKOFF_MS = 30_000;
/** Longest back-off of a misbehaving peer. */
export const MAX_MISBEHAVIOUR_BACKOFF_MS = 30 * 60_000;
