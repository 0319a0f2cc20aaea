import { InvalidSpaceInputError, SpaceExistsError, UnknownSpaceError } from '@allerac/memory-sync';
import { type OllamaSim, startOllamaSim } from '@allerac/ollama-sim';
import type { HardwareInfo } from '@allerac/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ForbiddenError,
  InvalidAccountError,
  InvalidCredentialsError,
  LoginLockedError,
  SetupAlreadyDoneError,
} from '../src/accounts/errors.js';
import type { Backend } from '../src/backend/backend.js';
import { createOllamaBackend } from '../src/backend/ollama-backend.js';
import { NodeShuttingDownError } from '../src/daemon.js';
import {
  ConflictError,
  DomainError,
  InvalidInputError,
  NotFoundError,
  UnavailableError,
} from '../src/errors.js';
import { errorBody, type HttpError, toHttpError } from '../src/http/errors.js';
import {
  AllBusyError,
  AllFailedError,
  AnswerInterruptedError,
  ModelNotFoundError,
  NoEligibleNodeError,
} from '../src/inference/errors.js';
import { LocalLoad } from '../src/inference/local-load.js';
import { LocalModels } from '../src/inference/local-models.js';
import { PeerMeasurements } from '../src/inference/measurements.js';
import { MeshGateway } from '../src/inference/mesh-gateway.js';
import {
  MemoryNotFoundError,
  MemoryNotYoursError,
  MemoryStateError,
  MemoryTooLargeError,
} from '../src/memory/errors.js';

/** What a client sees of an error: status, OpenAI body fields, Retry-After. */
function seen(error: unknown) {
  const http: HttpError = toHttpError(error);
  const { error: body } = errorBody('openai', http) as {
    error: { message: string; type: string; code: string | null; param: string | null };
  };
  return {
    status: http.status,
    type: body.type,
    code: body.code,
    param: body.param,
    retryAfter: http.retryAfterSeconds,
  };
}

describe('domain errors are mapped to statuses only at the HTTP edge', () => {
  it.each([
    [
      'a bad input',
      new InvalidInputError('k must be a number', { param: 'k' }),
      400,
      'invalid_request_error',
      null,
      'k',
    ],
    [
      'a bad account',
      new InvalidAccountError('the username "x" is taken'),
      400,
      'invalid_request_error',
      'invalid_account',
      null,
    ],
    [
      'wrong credentials',
      new InvalidCredentialsError(),
      401,
      'authentication_error',
      'invalid_credentials',
      null,
    ],
    ['a forbidden action', new ForbiddenError(), 403, 'permission_error', 'forbidden', null],
    [
      "someone else's memory",
      new MemoryNotYoursError('m1'),
      403,
      'permission_error',
      'memory_not_yours',
      null,
    ],
    [
      'a missing memory',
      new MemoryNotFoundError('m1'),
      404,
      'invalid_request_error',
      'memory_not_found',
      null,
    ],
    [
      'a missing model',
      new ModelNotFoundError('qwen3:8b'),
      404,
      'invalid_request_error',
      'model_not_found',
      null,
    ],
    ['a setup done twice', new SetupAlreadyDoneError(), 409, 'invalid_request_error', 'setup_done', null],
    [
      'a memory in the wrong state',
      new MemoryStateError('unshare it first'),
      409,
      'invalid_request_error',
      'memory_state',
      null,
    ],
    [
      'a memory too large',
      new MemoryTooLargeError('text is too long'),
      413,
      'invalid_request_error',
      'memory_too_large',
      null,
    ],
    ['a mesh that failed', new AllFailedError('llama3.2', 'boom'), 502, 'api_error', null, null],
    [
      'an answer cut off',
      new AnswerInterruptedError('bob', 'reset', 'no other node has it'),
      502,
      'api_error',
      null,
      null,
    ],
    [
      'a space that exists',
      new SpaceExistsError('family'),
      409,
      'invalid_request_error',
      'space_exists',
      null,
    ],
    [
      'an unknown space',
      new UnknownSpaceError('family'),
      404,
      'invalid_request_error',
      'unknown_space',
      null,
    ],
    ['a bad space input', new InvalidSpaceInputError('bad name'), 400, 'invalid_request_error', null, null],
  ])('should answer %s with its status, type and code', (_what, error, status, type, code, param) => {
    expect(seen(error)).toEqual({ status, type, code, param, retryAfter: undefined });
  });

  it.each([
    ['a locked login', new LoginLockedError(30), 429, 'rate_limit_error', 'login_locked', 30],
    [
      'no eligible node',
      new NoEligibleNodeError('llama3.2', [{ node: 'alice', reason: 'excluded: no room' }]),
      503,
      'service_unavailable',
      null,
      5,
    ],
    ['a busy mesh', new AllBusyError('llama3.2', 3, 3), 503, 'service_unavailable', null, 2],
    ['a node shutting down', new NodeShuttingDownError(), 503, 'service_unavailable', null, 5],
  ])('should answer %s with a Retry-After', (_what, error, status, type, code, retryAfter) => {
    expect(seen(error)).toEqual({ status, type, code, param: null, retryAfter });
  });

  it('should set name, keep the message actionable and carry the data a caller acts on', () => {
    const noNode = new NoEligibleNodeError('llama3.2', [{ node: 'alice', reason: 'excluded: no room' }], {
      url: 'http://127.0.0.1:11434',
      error: 'ECONNREFUSED',
    });
    expect(noNode).toBeInstanceOf(UnavailableError);
    expect(noNode.name).toBe('NoEligibleNodeError');
    expect(noNode.reasons).toEqual([{ node: 'alice', reason: 'excluded: no room' }]);
    expect(noNode.retryAfterSeconds).toBe(5);
    expect(noNode.message).toBe(
      'no node can serve llama3.2 right now: the local Ollama at http://127.0.0.1:11434 is unreachable (ECONNREFUSED); alice: excluded: no room',
    );
    const busy = new AllBusyError('llama3.2', 2, 1, 'connection reset');
    expect(busy.name).toBe('AllBusyError');
    expect([busy.tried, busy.busy, busy.retryAfterSeconds]).toEqual([2, 1, 2]);
    expect(busy.message).toContain(
      'busy or unreachable right now (1 busy of 2 tried; last: connection reset)',
    );
    expect(new NodeShuttingDownError().name).toBe('NodeShuttingDownError');
    expect(new SetupAlreadyDoneError()).toBeInstanceOf(ConflictError);
    expect(new MemoryNotFoundError('m1')).toBeInstanceOf(NotFoundError);
  });

  it("should keep the field at fault in OpenAI's param, and Ollama's shape plain", () => {
    const error = new InvalidInputError('allerac.policy must be "auto" or "local-first"', {
      param: 'allerac.policy',
    });
    expect(errorBody('openai', toHttpError(error))).toEqual({
      error: {
        message: 'allerac.policy must be "auto" or "local-first"',
        type: 'invalid_request_error',
        param: 'allerac.policy',
        code: null,
      },
    });
    expect(errorBody('ollama', toHttpError(error))).toEqual({
      error: 'allerac.policy must be "auto" or "local-first"',
    });
  });

  it('should leave a 500 for an error of no known kind, which is a bug', () => {
    expect(toHttpError(new DomainError('what is this')).status).toBe(500);
    expect(toHttpError(new Error('boom')).status).toBe(500);
  });
});

const MODEL = 'llama3.2:3b';
const logger = pino({ level: 'silent' });
const roomy: HardwareInfo = {
  cpuModel: 'test',
  cores: 4,
  ramTotal: 64 * 2 ** 30,
  ramFree: 48 * 2 ** 30,
  gpus: [],
  diskFree: 100 * 2 ** 30,
};

describe('the mesh gateway raises domain errors, not HTTP ones', () => {
  let sim: OllamaSim;
  let backend: Backend;

  const gateway = (options: { ramFree?: number; load?: LocalLoad } = {}) =>
    new MeshGateway(
      { nodeName: () => 'alice', specializations: () => [], defaultPolicy: () => ({ kind: 'auto' }) },
      {
        backend,
        localModels: new LocalModels(backend),
        load: options.load ?? new LocalLoad(),
        measurements: new PeerMeasurements(),
        hardware: async () => ({ ...roomy, ramFree: options.ramFree ?? roomy.ramFree }),
        logger,
      },
    );
  const chat = { model: MODEL, messages: [{ role: 'user', content: 'hello' }] };

  beforeAll(async () => {
    sim = await startOllamaSim({ profile: 'fast', models: [MODEL] });
    backend = createOllamaBackend({ url: sim.url }, { logger });
    await backend.start();
  });

  afterAll(async () => {
    await backend?.stop();
    await sim?.close();
  });

  it('should say which node was left out and why when none may serve', async () => {
    const error = await gateway({ ramFree: 2 ** 20 })
      .generate('chat', chat, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoEligibleNodeError);
    const { reasons, retryAfterSeconds, model } = error as NoEligibleNodeError;
    expect(model).toBe(MODEL);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatchObject({ node: 'alice', reason: expect.stringMatching(/^excluded: /) });
    expect(retryAfterSeconds).toBe(5);
  });

  it('should answer AllBusy with a Retry-After when every slot and queue place is taken', async () => {
    const load = new LocalLoad(1, 0);
    const busyGateway = gateway({ load });
    const holding = await busyGateway.generate('chat', chat, new AbortController().signal);
    try {
      const error = await busyGateway.generate('chat', chat, new AbortController().signal).catch((e) => e);
      expect(error).toBeInstanceOf(AllBusyError);
      expect(error).toMatchObject({ model: MODEL, tried: 1, busy: 1, retryAfterSeconds: 2 });
    } finally {
      await holding.rest[Symbol.asyncIterator]().return?.();
    }
  });

  it('should raise ModelNotFound and InvalidInput for what no node can fix', async () => {
    const missing = await gateway()
      .generate('chat', { ...chat, model: 'no-such-model:1b' }, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ModelNotFoundError);
    expect(missing).toMatchObject({ code: 'model_not_found', model: 'no-such-model:1b' });
    const shown = await gateway()
      .show({ model: 'no-such-model:1b' })
      .catch((e: unknown) => e);
    expect(shown).toBeInstanceOf(ModelNotFoundError);
    const policy = await gateway()
      .generate('chat', { ...chat, allerac: { policy: 'fastest' } }, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(policy).toBeInstanceOf(InvalidInputError);
    const pinned = await gateway()
      .generate('chat', { ...chat, allerac: { node: 'nobody' } }, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(pinned).toBeInstanceOf(InvalidInputError);
  });
});
