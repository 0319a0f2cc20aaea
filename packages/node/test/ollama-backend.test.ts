import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HardwareProfile, type OllamaSim, PROFILES, startOllamaSim } from '@allerac/ollama-sim';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, BackendHealth, OllamaObject } from '../src/backend/backend.js';
import { classifyClientFailure } from '../src/backend/client-failure.js';
import { BackendRequestError, BackendUnavailableError } from '../src/backend/errors.js';
import { createOllamaBackend } from '../src/backend/ollama-backend.js';

const MODEL = 'llama3.2:3b';
const logger = pino({ level: 'silent' });

/** Resolves once `predicate` holds, checking every 10 ms for at most 10 s. */
async function until(what: string, predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A chat's or generate's chunks, out of the batches the backend reads them in. */
async function drain(stream: AsyncIterable<readonly OllamaObject[]>): Promise<OllamaObject[]> {
  const chunks: OllamaObject[] = [];
  for await (const batch of stream) chunks.push(...batch);
  return chunks;
}

describe('ollama backend: what marks it unreachable', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(
    fetchImpl?: typeof fetch,
  ): Promise<{ sim: OllamaSim; backend: Backend; events: BackendHealth[] }> {
    const sim = await startOllamaSim({ profile: 'fast', models: [MODEL] });
    cleanups.push(() => sim.close());
    const backend = createOllamaBackend(
      { url: sim.url },
      { logger, ...(fetchImpl === undefined ? {} : { fetch: fetchImpl }) },
    );
    cleanups.push(() => backend.stop());
    await backend.start();
    expect(backend.health().state).toBe('up');
    const events: BackendHealth[] = [];
    backend.onHealthChange((health) => events.push(health));
    return { sim, backend, events };
  }

  it('should answer a chat with `images: 5` as a bad request, keep the backend up, and serve the next chat at once', async () => {
    const { backend, events } = await setup();
    const bad = { model: MODEL, messages: [{ role: 'user', content: 'hi', images: 5 }] };
    const failure = await drain(backend.chat(bad, new AbortController().signal)).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(BackendRequestError);
    expect((failure as BackendRequestError).status).toBe(400);
    expect(backend.health().state).toBe('up');
    expect(events).toEqual([]);

    const chunks = await drain(
      backend.chat(
        { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
        new AbortController().signal,
      ),
    );
    expect(chunks.at(-1)?.done).toBe(true);
    expect(events).toEqual([]);
  });

  it('should answer a generate whose body JSON cannot encode as a bad request', async () => {
    const { backend, events } = await setup();
    const failure = await drain(
      backend.generate({ model: MODEL, prompt: 'hi', options: { seed: 1n } }, new AbortController().signal),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BackendRequestError);
    expect(backend.health().state).toBe('up');
    expect(events).toEqual([]);
  });

  it('should mark the backend unreachable when the connection is refused', async () => {
    const { sim, backend, events } = await setup();
    await sim.close();
    const failure = await drain(
      backend.chat(
        { model: MODEL, messages: [{ role: 'user', content: 'hi' }] },
        new AbortController().signal,
      ),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BackendUnavailableError);
    expect(backend.health()).toMatchObject({ state: 'unreachable', error: 'ECONNREFUSED' });
    expect(events.map((event) => event.state)).toEqual(['unreachable']);
  });

  it('should stop Ollama loading a model when the caller leaves before the first byte', async () => {
    // A cold load of a minute: Ollama sends no header until it is done, so only a fetch that
    // carries the caller's signal can tell it the caller has gone.
    const sim = await startOllamaSim({
      profile: { ...(PROFILES.fast as HardwareProfile), loadMsPerGB: 60_000 },
      models: [MODEL],
    });
    cleanups.push(() => sim.close());
    const backend = createOllamaBackend({ url: sim.url }, { logger });
    cleanups.push(() => backend.stop());
    await backend.start();
    const caller = new AbortController();
    const answer = drain(
      backend.chat({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }, caller.signal),
    );
    answer.catch(() => undefined);
    await until('the sim to start loading', () => sim.stats().active === 1);
    caller.abort(new Error('the user left'));
    await expect(answer).rejects.toThrow('the user left');
    await until('the sim to see the request cancelled', () => sim.stats().cancelled === 1);
    expect(sim.stats().completed).toBe(0);
  });

  it('should send an image as the caller wrote it, never a file of this machine that it names', async () => {
    // A directory and file name made of base64 letters only, so the path passes for image data.
    const dir = mkdtempSync(join(tmpdir(), 'b64'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'QUJD');
    writeFileSync(path, 'the node secret');
    const sent: OllamaObject[] = [];
    const recording: typeof fetch = (input, init) => {
      if (typeof init?.body === 'string') sent.push(JSON.parse(init.body) as OllamaObject);
      return fetch(input, init);
    };
    const { backend } = await setup(recording);
    await drain(
      backend.chat(
        { model: MODEL, messages: [{ role: 'user', content: 'what is this', images: [path] }] },
        new AbortController().signal,
      ),
    ).catch(() => undefined);
    const chat = sent.find((body) => Array.isArray(body.messages)) as {
      messages: Array<{ images?: string[] }>;
    };
    expect(chat.messages[0]?.images).toEqual([path]);
  });
});

describe('ollama backend: classifying client failures', () => {
  it.each([
    [
      'refused',
      new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }),
    ],
    [
      'a socket cut mid-body',
      new TypeError('terminated', {
        cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET', name: 'SocketError' }),
      }),
    ],
    ['a timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError')],
    ['a socket hang up', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    [
      'a TLS failure',
      new TypeError('fetch failed', {
        cause: Object.assign(new Error('bad cert'), { code: 'CERT_HAS_EXPIRED' }),
      }),
    ],
  ])('should call %s a transport failure', (_what, error) => {
    expect(classifyClientFailure(error)).toBe('transport');
  });

  it.each([
    ['a TypeError on input', new TypeError('message.images.map is not a function')],
    ['a body JSON cannot encode', new TypeError('Do not know how to serialize a BigInt')],
    ['a nesting JSON.stringify cannot follow', new RangeError('Maximum call stack size exceeded')],
  ])('should call %s a bad request', (_what, error) => {
    expect(classifyClientFailure(error)).toBe('request');
  });

  it('should leave any other error alone', () => {
    expect(classifyClientFailure(new Error('something else'))).toBe('other');
  });
});
