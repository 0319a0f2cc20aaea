import { describe, expect, it } from 'vitest';
import {
  CARD_PROTOCOL,
  decodeFrame,
  decodeFrames,
  decodeVarint,
  encodeFrame,
  encodeVarint,
  FrameDecoder,
  FrameTooLargeError,
  MAX_FRAME_BYTES,
  MalformedFrameError,
  PROTOCOL_MESSAGE_TYPES,
  TruncatedFrameError,
  ValidationError,
} from '../src/index.js';
import { SAMPLE_MESSAGES } from './fixtures.js';

describe('varint', () => {
  it('should round-trip lengths up to the 4-byte limit', () => {
    for (const n of [0, 1, 127, 128, 300, 16_383, 16_384, 2_097_151, 2 ** 28 - 1]) {
      const bytes = encodeVarint(n);
      expect(decodeVarint(bytes)).toEqual({ value: n, length: bytes.length });
    }
  });

  it('should ask for more bytes on an unfinished prefix and reject a 5-byte one', () => {
    expect(decodeVarint(Uint8Array.from([0x80, 0x80]))).toBeUndefined();
    expect(() => decodeVarint(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x01]))).toThrow(MalformedFrameError);
  });
});

describe('codec', () => {
  it('should encode and decode every sample message', () => {
    for (const message of SAMPLE_MESSAGES) expect(decodeFrame(encodeFrame(message))).toEqual(message);
  });

  it('should decode frames split at every byte boundary', () => {
    const bytes = Buffer.concat(SAMPLE_MESSAGES.map((m) => encodeFrame(m)));
    for (const step of [1, 2, 3, 7, 64]) {
      const decoder = new FrameDecoder();
      const out = [];
      for (let i = 0; i < bytes.length; i += step) out.push(...decoder.push(bytes.subarray(i, i + step)));
      decoder.end();
      expect(out).toEqual(SAMPLE_MESSAGES);
    }
  });

  it('should refuse an oversize frame from its prefix alone, before buffering', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES[CARD_PROTOCOL] });
    expect(() => decoder.push(encodeVarint(MAX_FRAME_BYTES[CARD_PROTOCOL] + 1))).toThrow(FrameTooLargeError);
    expect(decoder.bufferedBytes).toBe(0);
    expect(() => decoder.push(Uint8Array.from([1]))).toThrow(FrameTooLargeError);
  });

  it('should refuse to encode a message over the limit', () => {
    const big = { type: 'sync-message' as const, space: 's', data: 'A'.repeat(2000) };
    expect(() => encodeFrame(big, { maxFrameBytes: 1000 })).toThrow(FrameTooLargeError);
  });

  it('should report a truncated frame at the end of the stream', () => {
    const bytes = encodeFrame({ type: 'leave' });
    expect(() => decodeFrames(bytes.subarray(0, bytes.length - 1))).toThrow(TruncatedFrameError);
  });

  it('should reject a message type the protocol does not carry', () => {
    const bytes = encodeFrame({ type: 'infer-cancel', id: 'x' });
    expect(() => decodeFrame(bytes, { allowedTypes: PROTOCOL_MESSAGE_TYPES[CARD_PROTOCOL] })).toThrow(
      ValidationError,
    );
  });

  it('should tolerate unknown fields and keep them', () => {
    const payload = Buffer.from('{"type":"key-ack","epoch":3,"future":{"x":1}}');
    const frame = Buffer.concat([encodeVarint(payload.length), payload]);
    expect(decodeFrame(frame)).toEqual({ type: 'key-ack', epoch: 3, future: { x: 1 } });
  });

  it('should reject wrong field types with the field path', () => {
    const payload = Buffer.from('{"type":"sync-hello","spaces":["a",2]}');
    const frame = Buffer.concat([encodeVarint(payload.length), payload]);
    expect(() => decodeFrame(frame)).toThrow(/\$\.spaces\[1\]/);
  });

  it('should stay poisoned after an error', () => {
    const decoder = new FrameDecoder();
    expect(() => decoder.push(Uint8Array.from([3, 0x31, 0x32, 0x33]))).toThrow(MalformedFrameError);
    expect(() => decoder.push(encodeFrame({ type: 'leave' }))).toThrow(MalformedFrameError);
  });
});
