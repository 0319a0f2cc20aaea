import type { FastifyInstance, FastifyReply } from 'fastify';
import type { OllamaObject } from '../backend/backend.js';
import { BackendResponseError } from '../backend/errors.js';
import {
  EVERY_NODE,
  type ModelAction,
  type ModelActionOptions,
  type ModelManagement,
  type ModelTarget,
} from '../inference/model-management.js';
import { encodeNodeHeader, NODE_HEADER } from './node-header.js';
import { BlobParams, CopyRequest, CreateRequest, DeleteRequest, PullRequest } from './ollama-schemas.js';
import { abortOnClientClose, ClientGoneError, TurnWriter } from './stream.js';
import { validatedBy } from './validate.js';

/** What the model routes need. */
export interface ModelApiDeps {
  models: ModelManagement;
  /** Aborted when the node shuts down. */
  shutdownSignal: AbortSignal;
}

/**
 * Ollama's model management: /api/pull, /api/delete, /api/copy and /api/create, on this node's
 * Ollama or, with `"allerac": {"node": ...}`, on a peer's. Admins only (loopback counts as one).
 * Status codes, bodies and NDJSON framing are Ollama's (server/routes.go): a streamed action
 * commits its status with the first progress line, and a later failure is a last `{"error"}` line.
 */
export function registerModelApi(app: FastifyInstance, deps: ModelApiDeps): void {
  const access = { access: 'local-or-admin' as const };

  // Ollama's push uploads a model to a registry on the internet. Nothing leaves the home, so the
  // node refuses it in Ollama's error shape rather than forwarding it.
  app.post('/api/push', { config: access }, async (_request, reply) =>
    reply.status(403).send({
      error:
        'pushing a model to a registry would send it out of the home; Allerac nodes do not push (copy models between nodes with /api/pull and "allerac": {"node": ...} instead)',
    }),
  );

  app.post('/api/pull', { config: access, ...validatedBy({ body: PullRequest }) }, async (request, reply) => {
    const { allerac, ...body } = request.body as PullRequest;
    const model = body.model || body.name || '';
    const target = deps.models.resolve(allerac?.node);
    const ollamaBody: OllamaObject = { model, ...(body.insecure === true ? { insecure: true } : {}) };
    const options = allerac?.source != null ? { source: allerac.source } : {};
    return progressAction(deps, reply, target, 'pull', ollamaBody, body.stream !== false, options);
  });

  app.post(
    '/api/create',
    { config: access, ...validatedBy({ body: CreateRequest }) },
    async (request, reply) => {
      const { allerac, stream, ...body } = request.body as CreateRequest;
      const target = deps.models.resolve(allerac?.node);
      return progressAction(deps, reply, target, 'create', dropNulls(body), stream !== false);
    },
  );

  app.delete(
    '/api/delete',
    { config: access, ...validatedBy({ body: DeleteRequest }) },
    async (request, reply) => {
      const { allerac, ...body } = request.body as DeleteRequest;
      const ollamaBody: OllamaObject = { model: body.model || body.name || '' };
      const signal = signalOf(reply, deps);
      if (allerac?.node === EVERY_NODE) {
        const result = await deps.models.deleteEverywhere(ollamaBody, signal);
        if (result.deleted.length > 0) return reply.status(200).send({ allerac: result });
        const failure = result.failed.find((f) => f.status !== 404) ?? result.failed[0];
        return reply
          .status(failure?.status ?? 404)
          .send({ error: failure?.error ?? 'not found', allerac: result });
      }
      return simpleAction(deps, reply, deps.models.resolve(allerac?.node), 'delete', ollamaBody, signal);
    },
  );

  // Blobs (the files of `ollama create -f Modelfile`) stay raw bytes of any size: a scope of
  // their own, where the body is the request stream itself, never parsed or buffered.
  void app.register(async (blobs) => {
    blobs.removeAllContentTypeParsers();
    blobs.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    const params = validatedBy({ params: BlobParams });
    blobs.head('/api/blobs/:digest', { config: access, ...params }, async (request, reply) => {
      const { digest } = request.params as BlobParams;
      if (await deps.models.hasBlob(digest)) return reply.status(200).send();
      return reply.status(404).send({ error: `blob "${digest}" not found` });
    });
    blobs.post('/api/blobs/:digest', { config: access, ...params }, async (request, reply) => {
      const { digest } = request.params as BlobParams;
      try {
        const status = await deps.models.createBlob(digest, request.raw, signalOf(reply, deps));
        return reply.status(status).send();
      } catch (error) {
        return sendOllamaError(reply, error);
      }
    });
  });

  app.post('/api/copy', { config: access, ...validatedBy({ body: CopyRequest }) }, async (request, reply) => {
    const { allerac, ...body } = request.body as CopyRequest;
    const ollamaBody: OllamaObject = { source: body.source ?? '', destination: body.destination ?? '' };
    const target = deps.models.resolve(allerac?.node);
    return simpleAction(deps, reply, target, 'copy', ollamaBody, signalOf(reply, deps));
  });
}

/** Delete and copy: Ollama answers 200 with an empty body, or its error with its status. */
async function simpleAction(
  deps: ModelApiDeps,
  reply: FastifyReply,
  target: ModelTarget,
  action: ModelAction,
  body: OllamaObject,
  signal: AbortSignal,
): Promise<FastifyReply> {
  reply.header(NODE_HEADER, encodeNodeHeader(target.name));
  try {
    await deps.models.complete(target, action, body, signal);
  } catch (error) {
    return sendOllamaError(reply, error);
  }
  return reply.status(200).send();
}

/** Pull and create: Ollama's ProgressResponse lines, or the last one alone when `stream: false`. */
async function progressAction(
  deps: ModelApiDeps,
  reply: FastifyReply,
  target: ModelTarget,
  action: ModelAction,
  body: OllamaObject,
  stream: boolean,
  options: ModelActionOptions = {},
): Promise<FastifyReply | undefined> {
  const signal = signalOf(reply, deps);
  reply.header(NODE_HEADER, encodeNodeHeader(target.name));
  const iterator = deps.models.run(target, action, body, signal, options)[Symbol.asyncIterator]();
  if (!stream) {
    // waitForStream: the latest progress object, or the error with its status.
    let latest: OllamaObject = {};
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) latest = next.value;
    } catch (error) {
      return sendOllamaError(reply, error);
    }
    return reply.status(200).send(latest);
  }
  let first: IteratorResult<OllamaObject>;
  try {
    first = await iterator.next();
  } catch (error) {
    // streamResponse: an error before any content gets its own status and a JSON body.
    return sendOllamaError(reply, error);
  }
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...(reply.getHeaders() as Record<string, string>),
    'Content-Type': 'application/x-ndjson',
    'Cache-Control': 'no-cache',
  });
  const out = new TurnWriter(res);
  try {
    for (let next = first; !next.done; next = await iterator.next()) {
      if (!(await out.write(`${JSON.stringify(next.value)}\n`))) throw new ClientGoneError();
    }
  } catch (error) {
    if (!(error instanceof ClientGoneError) && !signal.aborted) {
      await out.write(`${JSON.stringify({ error: (error as Error).message })}\n`);
    }
    await iterator.return?.();
  }
  out.end();
  return undefined;
}

/** Ollama's own error, with Ollama's status; anything else goes to the shared error mapping. */
function sendOllamaError(reply: FastifyReply, error: unknown): FastifyReply {
  if (error instanceof BackendResponseError) {
    const status = error.status >= 400 && error.status < 600 ? error.status : 502;
    return reply.status(status).send({ error: error.message });
  }
  throw error;
}

function signalOf(reply: FastifyReply, deps: ModelApiDeps): AbortSignal {
  return AbortSignal.any([abortOnClientClose(reply.raw).signal, deps.shutdownSignal]);
}

/** Go reads JSON `null` as the zero value; Ollama's create would refuse a null map as a value. */
function dropNulls(body: Record<string, unknown>): OllamaObject {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null));
}
