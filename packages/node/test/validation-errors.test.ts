import { Type } from '@sinclair/typebox';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { ChatRequest, EmbedRequest } from '../src/http/ollama-schemas.js';
import { ChatCompletionRequest } from '../src/http/openai-schemas.js';
import { assertJsonDepth, validatedBy } from '../src/http/validate.js';
import {
  frameworkErrorHandler,
  RequestValidationError,
  schemaFailure,
} from '../src/http/validation-errors.js';

describe('validation errors: one sentence naming the field', () => {
  it.each([
    [ChatRequest, null, 'request body must be a JSON object', ''],
    [ChatRequest, [1], 'request body must be a JSON object', ''],
    [ChatRequest, { model: 7 }, 'model must be a string without NUL (\\u0000) characters', 'model'],
    [ChatRequest, { messages: 'hi' }, 'messages must be an array', 'messages'],
    [
      ChatRequest,
      { messages: [{ content: 'x' }] },
      'messages[0].role must be a string without NUL (\\u0000) characters',
      'messages[0].role',
    ],
    [
      ChatRequest,
      { messages: [{ role: 'user', images: 5 }] },
      'messages[0].images must be an array',
      'messages[0].images',
    ],
    [
      ChatRequest,
      { messages: [{ role: 'user', images: ['a.png'] }] },
      'messages[0].images[0] must be a base64-encoded image string',
      'messages[0].images[0]',
    ],
    [ChatRequest, { stream: 'yes' }, 'stream must be true or false', 'stream'],
    [ChatRequest, { think: 'very' }, 'think must be true, false, "high", "medium", "low" or "max"', 'think'],
    [ChatRequest, { options: { stop: 'x' } }, 'options.stop must be an array', 'options.stop'],
    [ChatRequest, { top_logprobs: 2 ** 64 }, 'top_logprobs must be an integer', 'top_logprobs'],
    [
      ChatRequest,
      { allerac: { policy: 'fastest' } },
      'allerac.policy must be "auto" or "local-first"',
      'allerac.policy',
    ],
    [EmbedRequest, { input: [1] }, 'input must be a string or an array of strings', 'input'],
    [ChatCompletionRequest, { max_tokens: 'ten' }, 'max_tokens must be an integer', 'max_tokens'],
    [
      ChatCompletionRequest,
      { temperature: Number.POSITIVE_INFINITY },
      'temperature must be a number',
      'temperature',
    ],
  ])('should explain %#: %j', (schema, value, message, param) => {
    const error = schemaFailure(schema, value, 'body');
    expect(error).toBeInstanceOf(RequestValidationError);
    expect(error.status).toBe(400);
    expect(error.message).toBe(message);
    expect(error.param).toBe(param);
  });

  it('should name a missing required field as missing', () => {
    const error = schemaFailure(Type.Object({ input: Type.String() }), {}, 'body');
    expect(error.message).toBe('input must be a string');
    expect(error.code).toBe('missing_required_parameter');
  });

  it('should accept what Ollama accepts: nulls, unknown fields, images in base64', () => {
    const check = (body: unknown) =>
      validatedBy({ body: ChatRequest }).validatorCompiler({
        schema: {},
        httpPart: 'body',
        method: 'POST',
        url: '/',
      })(body);
    expect(
      check({
        model: 'm',
        messages: null,
        stream: null,
        options: { temperature: null, unknown: [1] },
        extra: { a: 1 },
      }),
    ).toBe(true);
    expect(
      check({ model: 'm', messages: [{ role: 'user', content: 'x', images: ['aGk=', 'aGk=\n'] }] }),
    ).toBe(true);
  });

  it('should refuse nesting deeper than the limit without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    expect(() => assertJsonDepth(deep)).toThrow(/nests deeper than 512/);
    expect(() => assertJsonDepth({ a: [[{ b: 1 }]] })).not.toThrow();
  });
});

describe('validation errors: URLs the router cannot decode', () => {
  it('should answer a bad percent-escape with 400 in each API shape', async () => {
    const app = Fastify({ frameworkErrors: frameworkErrorHandler });
    app.get('/api/tags', async () => ({}));
    app.get('/v1/models/:model', async () => ({}));
    const ollama = await app.inject({ url: '/api/%zz' });
    expect(ollama.statusCode).toBe(400);
    expect(ollama.json()).toEqual({ error: expect.stringMatching(/not a valid URL/) });
    const openai = await app.inject({ url: '/v1/models/%zz' });
    expect(openai.statusCode).toBe(400);
    expect(openai.json().error).toMatchObject({
      message: expect.stringMatching(/not a valid URL/),
      type: 'invalid_request_error',
    });
    await app.close();
  });
});
