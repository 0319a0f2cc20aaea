/** Boundary validation of every wire message, and type guards for the card messages. */
import {
  CARD_PROTOCOL,
  INFER_CHANNEL_PROTOCOL,
  INFER_CHUNK_WINDOW,
  INFER_PROTOCOL,
  KEY_PROTOCOL,
  MAX_BLOCKED_PEERS,
  MAX_CARD_MACS,
  MAX_MODELS_RANGE_BYTES,
  MODEL_PROTOCOL,
  MODELS_PROTOCOL,
  type ProtocolId,
  SYNC_PROTOCOL,
} from './constants.js';
import { ValidationError } from './errors.js';
import type {
  CardMessage,
  CardUpdateMessage,
  HeartbeatMessage,
  InferCancelMessage,
  InferChunkMessage,
  InferCreditMessage,
  InferDoneMessage,
  InferErrorMessage,
  InferRequestMessage,
  KeyAckMessage,
  KeyCheckMessage,
  KeyNoticeMessage,
  KeyRotateMessage,
  KeyRotation,
  KeyStateMessage,
  LeaveMessage,
  Message,
  MessageType,
  ModelDoneMessage,
  ModelErrorMessage,
  ModelProgressMessage,
  ModelRequestMessage,
  ModelsGetMessage,
  ModelsReplyMessage,
  NodeCard,
  SyncHelloMessage,
  SyncMessageMessage,
  SyncRefusedMessage,
} from './messages.js';
import { arr, bool, count, num, obj, oneOf, opt, plainObject, record, type Schema, str } from './schema.js';

const shortStr = str({ max: 256 });
const name = str({ min: 1, max: 256 });
const id = str({ min: 1, max: 128 });
const spaceName = str({ min: 1, max: 128 });
/** A base58btc or CIDv1 peer id: printable, bounded. Its key is checked where it matters. */
const peerIdStr = str({ min: 1, max: 128, pattern: /^[1-9A-HJ-NP-Za-km-z]+$|^[a-z2-7]+$/ });
const base64 = str({ max: 16 * 1024 * 1024, pattern: /^[A-Za-z0-9+/]*={0,2}$/ });
const time = count;
/** A unicast MAC as the card carries it: six lowercase hex pairs joined by colons. */
const macAddress = str({ min: 17, max: 17, pattern: /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/ });

/**
 * Name parts as Ollama's model names allow them (types/model/name.go): no `/`, and a leading
 * character that is never `.`, so no part can be `.` or `..` and reach outside the directory.
 */
const modelsPart = str({ min: 1, max: 80, pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]*$/ });
const modelsTag = str({ min: 1, max: 80, pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/ });
const modelsHost = str({ min: 1, max: 350, pattern: /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/ });
const modelsDigest = str({ min: 71, max: 71, pattern: /^sha256:[0-9a-f]{64}$/ });

/** Validates a NodeCard. */
export const nodeCardSchema: Schema<NodeCard> = obj({
  name,
  peerId: peerIdStr,
  softwareVersion: shortStr,
  protocolVersion: str({ min: 1, max: 32 }),
  hardware: obj({
    cpuModel: shortStr,
    cores: count,
    ramTotal: count,
    ramFree: count,
    swapTotal: opt(count),
    swapFree: opt(count),
    gpus: arr(obj({ model: shortStr, vramTotal: count, vramFree: count }), 64),
    diskFree: count,
  }),
  backend: obj({ state: oneOf('up', 'down'), url: opt(str({ max: 2048 })), version: opt(shortStr) }),
  models: arr(
    obj({
      name,
      sizeBytes: count,
      family: shortStr,
      parameterSize: shortStr,
      quantization: shortStr,
      loaded: bool,
      contextLength: opt(count),
      expiresAt: opt(time),
      capabilities: opt(arr(shortStr, 64)),
    }),
    1000,
  ),
  load: obj({
    activeTasks: count,
    queueDepth: count,
    slots: count,
    tokensPerSecond: record(num({ min: 0 }), 1000),
  }),
  specializations: arr(shortStr, 64),
  macs: opt(arr(macAddress, MAX_CARD_MACS)),
  wakeOnLan: opt(bool),
  preferredWhenOn: opt(bool),
  issuedAt: time,
  seq: count,
}) as Schema<NodeCard>;

const signature = str({ min: 1, max: 256, pattern: /^[A-Za-z0-9+/]*={0,2}$/ });
const typed = <T extends Message['type']>(t: T) => oneOf(t);
/** 32 bytes as 64 lowercase hex digits: keys, key ids and digests. */
const hex32 = str({ min: 64, max: 64, pattern: /^[0-9a-f]{64}$/ });
const epoch = num({ int: true, min: 1 });

/** Validates a KeyRotation record. */
export const keyRotationSchema: Schema<KeyRotation> = obj({
  issuer: peerIdStr,
  epoch,
  keyId: hex32,
  previousKeyId: hex32,
  blocked: arr(peerIdStr, MAX_BLOCKED_PEERS),
  issuedAt: time,
}) as Schema<KeyRotation>;

const schemas: { [K in MessageType]: Schema<Extract<Message, { type: K }>> } = {
  card: obj({ type: typed('card'), card: nodeCardSchema, signature }) as Schema<CardMessage>,
  'card-update': obj({
    type: typed('card-update'),
    card: nodeCardSchema,
    signature,
  }) as Schema<CardUpdateMessage>,
  heartbeat: obj({ type: typed('heartbeat'), seq: count, sentAt: time }) as Schema<HeartbeatMessage>,
  leave: obj({ type: typed('leave'), reason: opt(shortStr) }) as Schema<LeaveMessage>,
  'key-rotate': obj({
    type: typed('key-rotate'),
    rotation: keyRotationSchema,
    signature,
    newKey: hex32,
  }) as Schema<KeyRotateMessage>,
  'key-check': obj({ type: typed('key-check'), epoch, digest: hex32 }) as Schema<KeyCheckMessage>,
  'key-state': obj({ type: typed('key-state') }) as Schema<KeyStateMessage>,
  'key-notice': obj({
    type: typed('key-notice'),
    rotation: keyRotationSchema,
    signature,
  }) as Schema<KeyNoticeMessage>,
  'key-ack': obj({
    type: typed('key-ack'),
    epoch: opt(count),
    holds: opt(hex32),
    refused: opt(str({ min: 1, max: 64 })),
    current: opt(obj({ rotation: keyRotationSchema, signature })),
  }) as Schema<KeyAckMessage>,
  'infer-request': obj({
    type: typed('infer-request'),
    id,
    api: oneOf('chat', 'generate', 'embed', 'show', 'ps'),
    model: name,
    body: plainObject,
    deadlineMs: num({ int: true, min: 1, max: 24 * 3_600_000 }),
    failovers: opt(count),
  }) as Schema<InferRequestMessage>,
  'infer-chunk': obj({ type: typed('infer-chunk'), id, chunk: plainObject }) as Schema<InferChunkMessage>,
  'infer-done': obj({
    type: typed('infer-done'),
    id,
    stats: opt(
      obj({
        totalDurationNs: opt(count),
        loadDurationNs: opt(count),
        promptEvalCount: opt(count),
        promptEvalDurationNs: opt(count),
        evalCount: opt(count),
        evalDurationNs: opt(count),
      }),
    ),
  }) as Schema<InferDoneMessage>,
  'infer-error': obj({
    type: typed('infer-error'),
    id,
    code: oneOf(
      'busy',
      'model-not-found',
      'backend-unavailable',
      'bad-request',
      'internal',
      'cancelled',
      'deadline',
    ),
    message: str({ max: 4096 }),
    retryable: bool,
    status: opt(num({ int: true, min: 400, max: 599 })),
  }) as Schema<InferErrorMessage>,
  'infer-cancel': obj({ type: typed('infer-cancel'), id }) as Schema<InferCancelMessage>,
  'infer-credit': obj({
    type: typed('infer-credit'),
    id,
    chunks: num({ int: true, min: 1, max: INFER_CHUNK_WINDOW }),
  }) as Schema<InferCreditMessage>,
  'sync-hello': obj({ type: typed('sync-hello'), spaces: arr(spaceName, 1000) }) as Schema<SyncHelloMessage>,
  'sync-message': obj({
    type: typed('sync-message'),
    space: spaceName,
    data: base64,
    epoch: opt(count),
  }) as Schema<SyncMessageMessage>,
  'sync-refused': obj({
    type: typed('sync-refused'),
    space: spaceName,
    reason: str({ max: 1024 }),
  }) as Schema<SyncRefusedMessage>,
  'model-request': obj({
    type: typed('model-request'),
    id,
    action: oneOf('pull', 'delete', 'copy', 'create'),
    body: plainObject,
    source: opt(oneOf('internet', 'peer', 'auto')),
  }) as Schema<ModelRequestMessage>,
  'model-progress': obj({
    type: typed('model-progress'),
    id,
    progress: plainObject,
  }) as Schema<ModelProgressMessage>,
  'model-done': obj({ type: typed('model-done'), id }) as Schema<ModelDoneMessage>,
  'model-error': obj({
    type: typed('model-error'),
    id,
    status: num({ int: true, min: 400, max: 599 }),
    message: str({ max: 4096 }),
  }) as Schema<ModelErrorMessage>,
  'models-get': obj({
    type: typed('models-get'),
    kind: oneOf('manifest', 'blob'),
    host: opt(modelsHost),
    namespace: opt(modelsPart),
    model: opt(modelsPart),
    tag: opt(modelsTag),
    digest: opt(modelsDigest),
    offset: opt(count),
    length: opt(num({ int: true, min: 0, max: MAX_MODELS_RANGE_BYTES })),
    head: opt(bool),
    lane: opt(bool),
  }) as Schema<ModelsGetMessage>,
  'models-reply': obj({
    type: typed('models-reply'),
    status: num({ int: true, min: 200, max: 599 }),
    size: count,
    length: count,
    error: opt(str({ max: 1024 })),
    lane: opt(
      obj({
        port: num({ int: true, min: 1, max: 65535 }),
        identity: str({ min: 32, max: 32, pattern: /^[0-9a-f]{32}$/ }),
        key: str({ min: 44, max: 44, pattern: /^[A-Za-z0-9+/]{43}=$/ }),
        length: num({ int: true, min: 0, max: MAX_MODELS_RANGE_BYTES }),
      }),
    ),
  }) as Schema<ModelsReplyMessage>,
};

/** The message types each protocol carries. */
export const PROTOCOL_MESSAGE_TYPES: Readonly<Record<ProtocolId, readonly MessageType[]>> = {
  [CARD_PROTOCOL]: ['card', 'card-update', 'heartbeat', 'leave'],
  [KEY_PROTOCOL]: ['key-rotate', 'key-check', 'key-state', 'key-notice', 'key-ack'],
  [INFER_PROTOCOL]: ['infer-request', 'infer-chunk', 'infer-done', 'infer-error', 'infer-cancel'],
  [INFER_CHANNEL_PROTOCOL]: [
    'infer-request',
    'infer-chunk',
    'infer-done',
    'infer-error',
    'infer-cancel',
    'infer-credit',
  ],
  [SYNC_PROTOCOL]: ['sync-hello', 'sync-message', 'sync-refused'],
  [MODEL_PROTOCOL]: ['model-request', 'model-progress', 'model-done', 'model-error'],
  [MODELS_PROTOCOL]: ['models-get', 'models-reply'],
};

/** Every message type. */
export const MESSAGE_TYPES = Object.keys(schemas) as MessageType[];

/**
 * Validates a decoded JSON value as a message, optionally restricted to the types one protocol
 * carries. Returns the same object, typed; throws ValidationError.
 */
export function validateMessage(value: unknown, allowed?: readonly MessageType[]): Message {
  const o = plainObject(value, '$');
  const type = o.type;
  if (typeof type !== 'string') throw new ValidationError('$.type', 'expected a string');
  if (!Object.hasOwn(schemas, type) || (allowed !== undefined && !allowed.includes(type as MessageType))) {
    throw new ValidationError('$.type', `unexpected message type "${type.slice(0, 64)}"`);
  }
  return schemas[type as MessageType](o, '$');
}

/** Validates a NodeCard on its own. */
export function validateNodeCard(value: unknown): NodeCard {
  return nodeCardSchema(value, '$');
}

function guard<T extends Message>(type: T['type']): (value: unknown) => value is T {
  return (value): value is T => {
    try {
      validateMessage(value, [type]);
      return true;
    } catch {
      return false;
    }
  };
}

/** True when the value is a valid `card`. */
export const isCardMessage = guard<CardMessage>('card');
/** True when the value is a valid `card-update`. */
export const isCardUpdateMessage = guard<CardUpdateMessage>('card-update');
