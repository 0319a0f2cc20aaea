import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  FrameTooLargeError,
  INFER_PROTOCOL,
  type InferRequestMessage,
  MAX_FRAME_BYTES,
  MAX_INFER_BODY_BYTES,
} from '../src/index.js';

/** An infer-request whose body is `bytes` long as JSON (one long string field). */
function requestWithBody(bytes: number): InferRequestMessage {
  const empty = JSON.stringify({ model: 'gemma3:4b', prompt: '' }).length;
  return {
    type: 'infer-request',
    id: 'r'.repeat(128),
    api: 'generate',
    model: 'gemma3:4b',
    body: { model: 'gemma3:4b', prompt: 'a'.repeat(bytes - empty) },
    deadlineMs: 900_000,
    failovers: 7,
  };
}

describe('inference frame limit', () => {
  const options = { maxFrameBytes: MAX_FRAME_BYTES[INFER_PROTOCOL] };

  it('should carry the largest body a node accepts over HTTP to a peer in one frame', () => {
    const message = requestWithBody(MAX_INFER_BODY_BYTES);
    expect(JSON.stringify(message.body).length).toBe(MAX_INFER_BODY_BYTES);
    const frame = encodeFrame(message, options);
    expect((decodeFrame(frame, options) as InferRequestMessage).body).toEqual(message.body);
  });

  it('should refuse a body far past that limit before sending it', () => {
    const message = requestWithBody(MAX_FRAME_BYTES[INFER_PROTOCOL] + 1);
    expect(() => encodeFrame(message, options)).toThrow(FrameTooLargeError);
  });
});
