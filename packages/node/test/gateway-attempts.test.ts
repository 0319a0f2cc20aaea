import { type InferRequestMessage, MAX_INFER_FRAME_BYTES } from '@allerac/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestTooLargeError } from '../src/inference/errors.js';
import { assertFitsFrame, jsonBytesAtMost } from '../src/inference/gateway-attempts.js';

const request = (content: string): InferRequestMessage => ({
  type: 'infer-request',
  id: 'r1',
  api: 'chat',
  model: 'llama3.2:3b',
  body: { model: 'llama3.2:3b', messages: [{ role: 'user', content }] },
  deadlineMs: 1_000,
});

describe('the frame check before dialling', () => {
  it('should bound the JSON of any value from above, escapes and non-ASCII text included', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const exact = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
        expect(jsonBytesAtMost(value, Number.POSITIVE_INFINITY)).toBeGreaterThanOrEqual(exact);
      }),
      { numRuns: 500 },
    );
    // The longest a JSON number gets: fast-check found this one past an earlier bound of 24.
    expect(jsonBytesAtMost(-0.0000011546814158551532, Number.POSITIVE_INFINITY)).toBeGreaterThanOrEqual(25);
  });

  it('should pass a request whose frame fits, even when only the exact size shows it', () => {
    // ASCII text 1 KiB under the limit: the bound (6 bytes a character) says no, the JSON says yes.
    const envelope = Buffer.byteLength(JSON.stringify(request('')));
    expect(() => assertFitsFrame(request('x'.repeat(MAX_INFER_FRAME_BYTES - envelope)))).not.toThrow();
  });

  it('should refuse, with RequestTooLargeError, a request one byte past the frame', () => {
    const envelope = Buffer.byteLength(JSON.stringify(request('')));
    expect(() => assertFitsFrame(request('x'.repeat(MAX_INFER_FRAME_BYTES - envelope + 1)))).toThrow(
      RequestTooLargeError,
    );
  });
});
