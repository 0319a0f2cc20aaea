import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodePayload,
  encodeFrame,
  FrameDecoder,
  MESSAGE_TYPES,
  type Message,
  ProtocolError,
  validateNodeCard,
} from '../src/index.js';
import { SAMPLE_MESSAGES, sampleCard } from './fixtures.js';

/** Runs per property; ALLERAC_FUZZ_RUNS scales them for a long run (e.g. 1000000). */
const scale =
  Number(process.env.ALLERAC_FUZZ_RUNS ?? 0) > 0 ? Number(process.env.ALLERAC_FUZZ_RUNS) / 100_000 : 1;
const runs = (n: number) => Math.max(1, Math.round(n * scale));
const timeout = 120_000 * scale;

/** Asserts that `fn` returns or throws a ProtocolError, nothing else. */
function onlyTypedErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
  }
}

const jsonValue = fc.jsonValue({ maxDepth: 4 });
const messageLike = fc.record(
  { type: fc.oneof(fc.constantFrom(...MESSAGE_TYPES), fc.string()), a: jsonValue },
  { requiredKeys: ['type'] },
);
const mutateValid = fc.tuple(fc.constantFrom(...SAMPLE_MESSAGES), fc.string({ maxLength: 12 }), jsonValue);

describe('fuzz: decoders never throw anything but typed errors', () => {
  it(
    'should survive arbitrary bytes fed to the stream decoder (40k cases)',
    () => {
      fc.assert(
        fc.property(
          fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }),
          fc.nat(1 << 20),
          (chunks, max) => {
            const decoder = new FrameDecoder({ maxFrameBytes: Math.max(1, max) });
            onlyTypedErrors(() => {
              for (const c of chunks) decoder.push(c);
              decoder.end();
            });
          },
        ),
        { numRuns: runs(40_000) },
      );
    },
    timeout,
  );

  it(
    'should survive arbitrary JSON objects with message-like types (25k cases)',
    () => {
      fc.assert(
        fc.property(messageLike, (value) => {
          onlyTypedErrors(() => decodePayload(Buffer.from(JSON.stringify(value))));
        }),
        { numRuns: runs(25_000) },
      );
    },
    timeout,
  );

  it(
    'should survive valid messages with a field replaced by arbitrary JSON (20k cases)',
    () => {
      fc.assert(
        fc.property(mutateValid, ([message, key, value]) => {
          const fields = Object.keys(message);
          const target = fields[key.length % fields.length] ?? key;
          const mutated = { ...message, [key.length % 2 === 0 ? target : key]: value };
          onlyTypedErrors(() => decodePayload(Buffer.from(JSON.stringify(mutated))));
          onlyTypedErrors(() =>
            validateNodeCard({
              ...sampleCard('12D3KooWA4Xop1JaT3MHxwYMkCepYsv4iPVopMXwCz5iHYdBfeSB'),
              [target]: value,
            }),
          );
        }),
        { numRuns: runs(20_000) },
      );
    },
    timeout,
  );

  it(
    'should round-trip valid frames split anywhere and reject flipped bytes cleanly (20k cases)',
    () => {
      fc.assert(
        fc.property(
          fc.array(fc.constantFrom(...SAMPLE_MESSAGES), { minLength: 1, maxLength: 4 }),
          fc.nat(),
          fc.nat(),
          fc.integer({ min: 0, max: 255 }),
          (messages, split, flipAt, flipTo) => {
            const bytes = Buffer.concat(messages.map((m) => encodeFrame(m)));
            const at = split % (bytes.length + 1);
            const decoder = new FrameDecoder();
            const out: Message[] = [
              ...decoder.push(bytes.subarray(0, at)),
              ...decoder.push(bytes.subarray(at)),
            ];
            decoder.end();
            expect(out).toEqual(messages);
            const flipped = Buffer.from(bytes);
            flipped[flipAt % flipped.length] = flipTo;
            onlyTypedErrors(() => {
              const d = new FrameDecoder();
              d.push(flipped);
              d.end();
            });
          },
        ),
        { numRuns: runs(20_000) },
      );
    },
    timeout,
  );
});
