/** POST /api/chat, /api/generate, /api/embed and /api/embeddings. */
import type { ServerResponse } from 'node:http';
import type { ClientWatch } from './client-watch.js';
import { embedText } from './embedding.js';
import { modelNotFound, OllamaApiError, SERVER_BUSY } from './errors.js';
import { type GenerationMetrics, runGeneration } from './generation.js';
import {
  type JsonObject,
  numPredictOf,
  optionalBool,
  optionalString,
  optionsOf,
  sendJson,
} from './http-util.js';
import { parseKeepAlive } from './keep-alive.js';
import type { InstalledModel } from './models.js';
import type { SimState } from './state.js';
import { type ChatMessage, contextIds, countPromptTokens, countTokens, tokensToEmit } from './text.js';

const NS_PER_MS = 1e6;

function requireModel(body: JsonObject, goType: string): string {
  const model = optionalString(body, 'model', goType) ?? optionalString(body, 'name', goType);
  if (model === undefined || model.trim() === '') throw new OllamaApiError(400, 'model is required');
  return model;
}

function findModel(state: SimState, name: string): InstalledModel {
  const entry = state.store.find(name);
  if (entry === undefined) throw modelNotFound(name);
  return entry;
}

function rejectThinking(body: JsonObject, model: string): void {
  // None of the simulated models has the thinking capability; Ollama refuses think=true for those.
  if (body.think === true || body.think === 'high' || body.think === 'medium' || body.think === 'low') {
    throw new OllamaApiError(400, `${JSON.stringify(model)} does not support thinking`);
  }
}

function parseMessages(body: JsonObject): ChatMessage[] {
  const raw = body.messages;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    throw new OllamaApiError(
      400,
      'json: cannot unmarshal object into Go struct field ChatRequest.messages of type []api.Message',
    );
  }
  return raw.map((item) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new OllamaApiError(
        400,
        'json: cannot unmarshal into Go struct field ChatRequest.messages of type api.Message',
      );
    }
    const message = item as JsonObject;
    const role = optionalString(message, 'role', 'Message') ?? '';
    const content = optionalString(message, 'content', 'Message') ?? '';
    return { role, content };
  });
}

/** Load-only and unload-only requests (no messages / empty prompt), answered with one object. */
async function loadOrUnload(
  state: SimState,
  res: ServerResponse,
  entry: InstalledModel,
  keepAliveMs: number | undefined,
  shape: (doneReason: string) => unknown,
): Promise<void> {
  if (keepAliveMs === 0) {
    state.store.unload(entry);
    sendJson(res, 200, shape('unload'));
    return;
  }
  const lease = await state.store.acquire(entry);
  lease.release(keepAliveMs);
  sendJson(res, 200, shape('load'));
}

/** POST /api/chat. */
export async function handleChat(
  state: SimState,
  res: ServerResponse,
  client: ClientWatch,
  body: JsonObject,
  startedAt: number,
): Promise<void> {
  const model = requireModel(body, 'ChatRequest');
  const messages = parseMessages(body);
  const stream = optionalBool(body, 'stream', 'ChatRequest') ?? true;
  const keepAliveMs = parseKeepAlive(body.keep_alive);
  const numPredict = numPredictOf(optionsOf(body, 'ChatRequest'));
  const entry = findModel(state, model);
  if (!entry.model.capabilities.includes('completion')) {
    throw new OllamaApiError(400, `${JSON.stringify(model)} does not support chat`);
  }
  rejectThinking(body, model);
  const created = () => new Date().toISOString();
  if (messages.length === 0) {
    await loadOrUnload(state, res, entry, keepAliveMs, (doneReason) => ({
      model,
      created_at: created(),
      message: { role: 'assistant', content: '' },
      done_reason: doneReason,
      done: true,
    }));
    return;
  }
  const modelJson = JSON.stringify(model);
  const doneReason = numPredict !== undefined ? 'length' : 'stop';
  await runGeneration(state, res, client, {
    entry,
    tokens: tokensToEmit(entry.weights, messages, numPredict),
    promptTokens: countPromptTokens(messages),
    stream,
    keepAliveMs,
    startedAt,
    chunk: (token, createdAt) =>
      `{"model":${modelJson},"created_at":"${createdAt}","message":{"role":"assistant","content":${JSON.stringify(token)}},"done":false}`,
    final: (content: string, metrics: GenerationMetrics, createdAt: string) => ({
      model,
      created_at: createdAt,
      message: { role: 'assistant', content },
      done_reason: doneReason,
      done: true,
      ...metrics,
    }),
  });
}

/** POST /api/generate: the conversation is (system, prompt); `raw` and `context` are accepted. */
export async function handleGenerate(
  state: SimState,
  res: ServerResponse,
  client: ClientWatch,
  body: JsonObject,
  startedAt: number,
): Promise<void> {
  const model = requireModel(body, 'GenerateRequest');
  const prompt = optionalString(body, 'prompt', 'GenerateRequest') ?? '';
  const system = optionalString(body, 'system', 'GenerateRequest');
  const raw = optionalBool(body, 'raw', 'GenerateRequest') ?? false;
  const stream = optionalBool(body, 'stream', 'GenerateRequest') ?? true;
  const keepAliveMs = parseKeepAlive(body.keep_alive);
  const numPredict = numPredictOf(optionsOf(body, 'GenerateRequest'));
  if (body.context !== undefined && body.context !== null && !Array.isArray(body.context)) {
    throw new OllamaApiError(
      400,
      'json: cannot unmarshal into Go struct field GenerateRequest.context of type []int',
    );
  }
  const context = Array.isArray(body.context) ? body.context : undefined;
  const entry = findModel(state, model);
  if (prompt === '' && keepAliveMs === 0) {
    state.store.unload(entry);
    sendJson(res, 200, {
      model,
      created_at: new Date().toISOString(),
      response: '',
      done: true,
      done_reason: 'unload',
    });
    return;
  }
  if (!entry.model.capabilities.includes('completion')) {
    throw new OllamaApiError(400, `${JSON.stringify(model)} does not support generate`);
  }
  if (raw && (system !== undefined || context !== undefined)) {
    throw new OllamaApiError(400, 'raw mode does not support template, system, or context');
  }
  rejectThinking(body, model);
  if (prompt === '') {
    await loadOrUnload(state, res, entry, keepAliveMs, (doneReason) => ({
      model,
      created_at: new Date().toISOString(),
      response: '',
      done: true,
      done_reason: doneReason,
    }));
    return;
  }
  const messages: ChatMessage[] = [
    ...(system !== undefined && system !== '' ? [{ role: 'system', content: system }] : []),
    { role: 'user', content: prompt },
  ];
  const tokens = tokensToEmit(entry.weights, messages, numPredict);
  const promptTokens = countPromptTokens(messages) + (context?.length ?? 0);
  const modelJson = JSON.stringify(model);
  const doneReason = numPredict !== undefined ? 'length' : 'stop';
  await runGeneration(state, res, client, {
    entry,
    tokens,
    promptTokens,
    stream,
    keepAliveMs,
    startedAt,
    chunk: (token, createdAt) =>
      `{"model":${modelJson},"created_at":"${createdAt}","response":${JSON.stringify(token)},"done":false}`,
    final: (content: string, metrics: GenerationMetrics, createdAt: string) => ({
      model,
      created_at: createdAt,
      response: content,
      done: true,
      done_reason: doneReason,
      ...(raw ? {} : { context: contextIds(tokens) }),
      ...metrics,
    }),
  });
}

function embeddingModel(state: SimState, model: string): InstalledModel & { dimensions: number } {
  const entry = findModel(state, model);
  const dimensions = entry.model.embeddingDimensions;
  if (!entry.model.capabilities.includes('embedding') || dimensions === undefined) {
    throw new OllamaApiError(400, `${JSON.stringify(model)} does not support embeddings`);
  }
  return { ...entry, dimensions };
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
  const model = requireModel(body, 'EmbedRequest');
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
  const model = requireModel(body, 'EmbeddingRequest');
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
