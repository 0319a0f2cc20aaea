/**
 * @allerac/protocol: the wire protocol of the Allerac home mesh. Versioned protocol ids, limits,
 * message types with validators and type guards, the length-prefixed JSON codec, card and
 * key-rotation signing, the rules for adopting a rotation, and typed errors. The conformance suite lives at `@allerac/protocol/conformance`.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameDecoder, MAX_FRAME_BYTES, CARD_PROTOCOL } from '@allerac/protocol';
 * const bytes = encodeFrame({ type: 'leave', reason: 'shutdown' });
 * const [message] = new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES[CARD_PROTOCOL] }).push(bytes);
 * ```
 */
export { canonicalJson } from './canonical-json.js';
export { cardSigningBytes, signCard, signedCardMessage, verifyCardMessage } from './card-signing.js';
export {
  type CodecOptions,
  decodeFrame,
  decodeFrames,
  decodePayload,
  decodeVarint,
  encodeFrame,
  encodeVarint,
  FrameDecoder,
} from './codec.js';
export {
  CARD_PROTOCOL,
  CARD_UPDATE_MIN_INTERVAL_MS,
  FIRST_FRAME_TIMEOUT_MS,
  FRAME_COMPLETION_TIMEOUT_MS,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_MISS_THRESHOLD,
  INFER_FRAME_OVERHEAD_BYTES,
  INFER_PROTOCOL,
  KEY_ACK_TIMEOUT_MS,
  KEY_PROTOCOL,
  KEY_ROTATION_MAX_SKEW_MS,
  KEY_ROTATION_SETTLE_MS,
  MAX_ANY_FRAME_BYTES,
  MAX_BLOCKED_PEERS,
  MAX_CARD_FRAME_BYTES,
  MAX_FRAME_BYTES,
  MAX_INBOUND_STREAMS,
  MAX_INFER_BODY_BYTES,
  MAX_INFER_FRAME_BYTES,
  MAX_INFER_OPENS_PER_WINDOW,
  MAX_KEY_FRAME_BYTES,
  MAX_LENGTH_PREFIX_BYTES,
  MAX_MISBEHAVIOUR_BACKOFF_MS,
  MAX_MODEL_FRAME_BYTES,
  MAX_STREAM_OPENS_PER_WINDOW,
  MAX_SYNC_FRAME_BYTES,
  MISBEHAVIOUR_BACKOFF_MS,
  MODEL_PROTOCOL,
  PROTOCOL_VERSION,
  PROTOCOLS,
  type ProtocolId,
  STREAM_FLOOD_WINDOW_MS,
  SYNC_PROTOCOL,
} from './constants.js';
export {
  BadSignatureError,
  FrameTimeoutError,
  FrameTooLargeError,
  type KeyRotationRefusal,
  KeyRotationRefusedError,
  MalformedFrameError,
  ProtocolError,
  TruncatedFrameError,
  UnexpectedMessageError,
  UnsupportedVersionError,
  ValidationError,
} from './errors.js';
export { FramedStream, type FramedStreamOptions } from './framed-stream.js';
export {
  keyRotationDigest,
  keyRotationSigningBytes,
  meshKeyId,
  signKeyRotation,
  verifyKeyRotation,
} from './key-rotation.js';
export type {
  BackendInfo,
  CardMessage,
  CardProtocolMessage,
  CardUpdateMessage,
  GpuInfo,
  HardwareInfo,
  HeartbeatMessage,
  InferApi,
  InferCancelMessage,
  InferChunkMessage,
  InferDoneMessage,
  InferErrorCode,
  InferErrorMessage,
  InferProtocolMessage,
  InferRequestMessage,
  InferStats,
  KeyAckMessage,
  KeyCheckMessage,
  KeyNoticeMessage,
  KeyProtocolMessage,
  KeyRotateMessage,
  KeyRotation,
  KeyStateMessage,
  LeaveMessage,
  LoadInfo,
  Message,
  MessageType,
  ModelAction,
  ModelDoneMessage,
  ModelErrorMessage,
  ModelInfo,
  ModelProgressMessage,
  ModelProtocolMessage,
  ModelRequestMessage,
  NodeCard,
  SignedKeyRotation,
  SyncHelloMessage,
  SyncMessageMessage,
  SyncProtocolMessage,
  SyncRefusedMessage,
} from './messages.js';
export {
  checkKeyNotice,
  checkKeyRotation,
  type KeyRotateContext,
  type KeyRotationContext,
} from './rotation-rules.js';
export {
  isCardMessage,
  isCardUpdateMessage,
  keyRotationSchema,
  MESSAGE_TYPES,
  PROTOCOL_MESSAGE_TYPES,
  validateMessage,
  validateNodeCard,
} from './validate.js';
