/** Typed errors of the wire protocol: each kind of failure has its own class and `name`. */

/** Base class of every protocol error, so callers can catch them as one family. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** A frame's length prefix announces more than the protocol allows; nothing was buffered. */
export class FrameTooLargeError extends ProtocolError {
  override name = 'FrameTooLargeError';
  /** The announced payload length in bytes. */
  readonly length: number;
  /** The limit that was exceeded, in bytes. */
  readonly limit: number;
  constructor(length: number, limit: number) {
    super(`frame of ${length} bytes exceeds the limit of ${limit} bytes`);
    this.length = length;
    this.limit = limit;
  }
}

/** A frame is not a length prefix followed by one UTF-8 JSON object. */
export class MalformedFrameError extends ProtocolError {
  override name = 'MalformedFrameError';
}

/** The stream ended in the middle of a frame. */
export class TruncatedFrameError extends ProtocolError {
  override name = 'TruncatedFrameError';
}

/** A decoded object is not a valid message: a missing field, a wrong type or an unknown `type`. */
export class ValidationError extends ProtocolError {
  override name = 'ValidationError';
  /** Dotted path of the offending field, `$` for the root. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.path = path;
  }
}

/** A card's signature does not verify against the sender's peer id, or names another peer. */
export class BadSignatureError extends ProtocolError {
  override name = 'BadSignatureError';
}

/** The peer speaks a protocol version this implementation does not support. */
export class UnsupportedVersionError extends ProtocolError {
  override name = 'UnsupportedVersionError';
}

/** A message arrived that the protocol does not allow at this point of the stream. */
export class UnexpectedMessageError extends ProtocolError {
  override name = 'UnexpectedMessageError';
}

/** The peer took too long to send a frame it had started, or its first frame. */
export class FrameTimeoutError extends ProtocolError {
  override name = 'FrameTimeoutError';
}

/**
 * A well-formed, correctly signed key rotation that the receiver will not adopt: wrong epoch, an
 * implausible blocklist, an untrusted issuer, a key it does not hold, or an old timestamp.
 */
export class KeyRotationRefusedError extends ProtocolError {
  override name = 'KeyRotationRefusedError';
  /** Short machine-readable reason, sent back in `key-ack.refused`. */
  readonly reason: KeyRotationRefusal;
  /**
   * True when no honest implementation could have sent it (it blocks the receiver or its issuer,
   * or adds several peers at once), so the sender is cut off as for any other protocol error.
   */
  readonly misbehaviour: boolean;
  constructor(reason: KeyRotationRefusal, message: string, misbehaviour = false) {
    super(message);
    this.reason = reason;
    this.misbehaviour = misbehaviour;
  }
}

/** Why a key rotation was refused. */
export type KeyRotationRefusal =
  | 'not-issuer'
  | 'not-trusted'
  | 'wrong-key'
  | 'epoch'
  | 'blocklist'
  | 'blocks-receiver'
  | 'blocks-issuer'
  | 'clock'
  | 'conflict'
  | 'out-of-date';
