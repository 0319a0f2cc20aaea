/** POST /api/embed and /api/embeddings (EmbedHandler, EmbeddingsHandler in server/routes.go). */
import type { ServerResponse } from 'node:http';
import type { ClientWatch } from './client-watch.js';
import { embedText } from './embedding.js';
import { modelNotFound, OllamaApiError, SERVER_BUSY } from './errors.js';
import { type JsonObject, optionalString, sendJson } from './http-util.js';
import { parseKeepAlive } from './keep-alive.js';
import { embeddingLength } from './model-info.js';
import { installedModel, notFoundQuoted, validModelRef } from './model-lookup.js';
import type { InstalledModel } from './models.js';
import type { SimState } from './state.js';
import { countTokens } from './text.js';

const NS_PER_MS = 1e6;

/**
 * The model to embed with. Ollama asks no capability of it (scheduleRunner gets none), so chat
 * models embed too, with vectors as long as their embedding_length.
 */
function embeddingModel(state: SimState, model: string): InstalledModel & { dimensions: number } {
  const entry = installedModel(state, model, () => modelNotFound(model));
  return { ...entry, dimensions: embeddingLength(entry.model) };
}

/** Holds a slot and the model while embedding `texts`; prompt processing sets the duration. */
async function embedTexts(
  state: SimState,
  client: ClientWatch,
  entry: InstalledModel,
  texts: string[],
  dimensions: number,
  keepAliveMs: number | undefined,
): Promise<{ vectors: number[][]; loadMs: number; promptTokens: number } | undefined> {
  const ticket = state.scheduler.acquire();
  if (ticket === undefined) {
    state.counters.rejected++;
    throw new OllamaApiError(503, SERVER_BUSY);
  }
  try {
    await ticket.ready;
    const lease = await state.store.acquire(entry);
    const promptTokens = texts.reduce((sum, text) => sum + countTokens(text) + 2, 0);
    await state.sleep((promptTokens / state.profile.promptEvalTokensPerSecond) * 1000);
    lease.release(keepAliveMs);
    if (client.gone) {
      state.counters.cancelled++;
      return undefined;
    }
    return { vectors: texts.map((text) => embedText(text, dimensions)), loadMs: lease.loadMs, promptTokens };
  } finally {
    ticket.release();
  }
}

/** POST /api/embed: `input` is a string or a list of strings. */
export async function handleEmbed(
  state: SimState,
  res: ServerResponse,
  client: ClientWatch,
  body: JsonObject,
  startedAt: number,
): Promise<void> {
  const model = optionalString(body, 'model', 'EmbedRequest') ?? '';
  validModelRef(model, () => notFoundQuoted(model));
  const input = body.input;
  let texts: string[];
  if (input === undefined || input === null) texts = [];
  else if (typeof input === 'string') texts = input === '' ? [] : [input];
  else if (Array.isArray(input) && input.every((item) => typeof item === 'string')) texts = input as string[];
  else throw new OllamaApiError(400, 'invalid input type');
  const keepAliveMs = parseKeepAlive(body.keep_alive);
  const entry = embeddingModel(state, model);
  const requested = typeof body.dimensions === 'number' ? Math.floor(body.dimensions) : 0;
  const dimensions = requested > 0 && requested < entry.dimensions ? requested : entry.dimensions;
  if (texts.length === 0) {
    const lease = await state.store.acquire(entry);
    lease.release(keepAliveMs);
    sendJson(res, 200, { model, embeddings: [] });
    return;
  }
  const result = await embedTexts(state, client, entry, texts, dimensions, keepAliveMs);
  if (result === undefined) return;
  state.counters.completed++;
  sendJson(res, 200, {
    model,
    embeddings: result.vectors,
    total_duration: Math.round((performance.now() - startedAt) * NS_PER_MS),
    load_duration: Math.round(result.loadMs * NS_PER_MS),
    prompt_eval_count: result.promptTokens,
  });
}

/** POST /api/embeddings, the legacy single-prompt endpoint. */
export async function handleEmbeddings(
  state: SimState,
  res: ServerResponse,
  client: ClientWatch,
  body: JsonObject,
): Promise<void> {
  const model = optionalString(body, 'model', 'EmbeddingRequest') ?? '';
  validModelRef(model, () => new OllamaApiError(400, 'model is required'));
  const prompt = optionalString(body, 'prompt', 'EmbeddingRequest') ?? '';
  const keepAliveMs = parseKeepAlive(body.keep_alive);
  const entry = embeddingModel(state, model);
  if (prompt === '') {
    const lease = await state.store.acquire(entry);
    lease.release(keepAliveMs);
    sendJson(res, 200, { embedding: [] });
    return;
  }
  const result = await embedTexts(state, client, entry, [prompt], entry.dimensions, keepAliveMs);
  if (result === undefined) return;
  state.counters.completed++;
  sendJson(res, 200, { embedding: result.vectors[0] });
}
