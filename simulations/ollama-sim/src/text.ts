/**
 * Deterministic answers. The answer is a pure function of the model's weights, the conversation
 * (without a trailing assistant message) and num_predict, so a generation cut short on one node
 * and continued on another with the partial text as an assistant prefix gives the same text.
 */
import { createHash } from 'node:crypto';
import { decodeBase64 } from './base64.js';
import { MODEL_CATALOG, weightsName } from './catalog.js';

/** A tool call as Ollama's api.ToolCall carries it. */
export interface ToolCall {
  id?: string;
  function: { index?: number; name: string; arguments: Record<string, unknown> };
}

/**
 * A chat message as the Ollama API carries it. The optional parts change the answer only when
 * present, so a plain conversation keeps its answer.
 */
export interface ChatMessage {
  role: string;
  content: string;
  /** sha256 (hex) of each image's bytes; only vision models see images. */
  images?: string[];
  tool_calls?: ToolCall[];
  tool_name?: string;
}

const VOCAB = (
  'the a model answer home network node local memory token light river stone garden window ' +
  'quiet simple small large fast slow bright early late warm cold open near far every some ' +
  'many each other system kitchen table book letter morning evening signal bridge path ' +
  'question reason story music paper water field forest mountain city street door room ' +
  'friend family machine engine message record moment season summer winter number pattern ' +
  'is was can will may should runs keeps holds finds makes takes gives shows brings ' +
  'learns builds sends reads writes moves turns leads helps starts ends grows shares ' +
  'and but so then also still often rarely always never here there today tomorrow ' +
  'with without under over between through before after around across inside beside ' +
  'clear careful gentle steady useful private shared careful calm curious patient honest'
).split(' ');

/** Hard cap on generated tokens, so a huge num_predict cannot exhaust memory. */
export const MAX_TOKENS = 131_072;

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** xorshift32: tiny, fast and fully reproducible. */
export class XorShift32 {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  /** Next unsigned 32-bit value. */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
  /** Next float in [0, 1). */
  float(): number {
    return this.next() / 0x1_0000_0000;
  }
}

/** Splits off a trailing assistant message, which Ollama treats as a prefix to continue. */
export function splitTrailingAssistant(messages: readonly ChatMessage[]): {
  conversation: ChatMessage[];
  prefix: string | undefined;
} {
  const last = messages.at(-1);
  if (last !== undefined && last.role === 'assistant') {
    return { conversation: messages.slice(0, -1), prefix: last.content };
  }
  return { conversation: [...messages], prefix: undefined };
}

/** The text a conversation's answers are seeded from. */
export function conversationKey(model: string, conversation: readonly ChatMessage[]): string {
  let key = weightsName(model);
  for (const message of conversation) {
    key += `\u241e${message.role}\u241f${message.content}`;
    if (message.images !== undefined && message.images.length > 0)
      key += `\u241fimages:${message.images.join(',')}`;
    if (message.tool_calls !== undefined && message.tool_calls.length > 0) {
      // As Go decodes them: a missing index is 0, and the id does not reach the template.
      const calls = message.tool_calls.map(({ function: f }) => ({
        index: f.index ?? 0,
        name: f.name,
        arguments: f.arguments,
      }));
      key += `\u241ftool_calls:${JSON.stringify(calls)}`;
    }
    if (message.tool_name !== undefined && message.tool_name !== '')
      key += `\u241ftool_name:${message.tool_name}`;
  }
  return key;
}

function seedOf(model: string, conversation: readonly ChatMessage[]): number {
  return fnv1a(conversationKey(model, conversation));
}

/**
 * Capitalised sentences of 5-14 vocabulary words from `rng`: exactly `limit` tokens when given,
 * otherwise up to the first sentence end at or past `natural` tokens.
 */
export function sentenceTokens(rng: XorShift32, natural: number, limit: number | undefined): string[] {
  const tokens: string[] = [];
  for (;;) {
    const sentenceLength = 5 + (rng.next() % 10);
    for (let i = 0; i < sentenceLength; i++) {
      let word = VOCAB[rng.next() % VOCAB.length]!;
      if (i === 0) word = word[0]!.toUpperCase() + word.slice(1);
      if (i === sentenceLength - 1) word += '.';
      else if (i > 1 && rng.next() % 11 === 0) word += ',';
      tokens.push(tokens.length === 0 ? word : ` ${word}`);
      if (limit !== undefined && tokens.length >= limit) return tokens;
    }
    if (limit === undefined && tokens.length >= natural) return tokens;
  }
}

/** A word of the answer vocabulary, for generated JSON strings. */
export function vocabularyWord(rng: XorShift32): string {
  return VOCAB[rng.next() % VOCAB.length]!;
}

/**
 * The full answer as tokens: the first is a bare word, each next one a word with its leading
 * space. Sentences run 5-14 words. Without num_predict the answer ends at the first sentence end
 * past 20-48 tokens; with it, it is exactly num_predict tokens (a prefix of the same stream).
 */
export function answerTokens(
  model: string,
  conversation: readonly ChatMessage[],
  numPredict?: number,
): string[] {
  const rng = new XorShift32(seedOf(model, conversation));
  const natural = 20 + (rng.next() % 29);
  const limit =
    numPredict !== undefined && numPredict > 0 ? Math.min(Math.floor(numPredict), MAX_TOKENS) : undefined;
  return sentenceTokens(rng, natural, limit);
}

/** A message as clients send it: images in base64. */
export interface ApiMessage {
  role: string;
  content: string;
  images?: string[];
  tool_calls?: ToolCall[];
  tool_name?: string;
}

/** sha256 (hex) of an image's bytes, given in base64 as the API carries it. */
export function imageDigest(base64: string): string {
  return createHash('sha256').update(decodeBase64(base64)).digest('hex');
}

/** Messages as the answer sees them: images only for a vision model, as their digests. */
export function fromApiMessages(messages: readonly ApiMessage[], vision: boolean): ChatMessage[] {
  return messages.map((message) => {
    const out: ChatMessage = { role: message.role, content: message.content };
    if (vision && message.images !== undefined && message.images.length > 0) {
      out.images = message.images.map(imageDigest);
    }
    if (message.tool_calls !== undefined && message.tool_calls.length > 0)
      out.tool_calls = message.tool_calls;
    if (message.tool_name !== undefined && message.tool_name !== '') out.tool_name = message.tool_name;
    return out;
  });
}

/** Whether a catalog model sees images; models outside the catalog are taken to. */
export function catalogVision(model: string): boolean {
  return MODEL_CATALOG[weightsName(model)]?.capabilities.includes('vision') ?? true;
}

/**
 * The deterministic full answer for a conversation (a trailing assistant message is ignored).
 * Images count for vision models only, as the simulator serves them.
 */
export function expectedAnswer(model: string, messages: ApiMessage[], numPredict?: number): string {
  const conversation = fromApiMessages(messages, catalogVision(model));
  return answerTokens(model, splitTrailingAssistant(conversation).conversation, numPredict).join('');
}

/**
 * The tokens to emit for a request. With an assistant prefix that the full answer starts with,
 * only the remainder is emitted (the first piece may be the tail of a token cut mid-word); with
 * any other prefix the whole conversation seeds a fresh answer.
 */
export function tokensToEmit(model: string, messages: readonly ChatMessage[], numPredict?: number): string[] {
  const { conversation, prefix } = splitTrailingAssistant(messages);
  if (prefix === undefined) return answerTokens(model, conversation, numPredict);
  const full = answerTokens(model, conversation, numPredict);
  if (!full.join('').startsWith(prefix)) return answerTokens(model, messages, numPredict);
  const out: string[] = [];
  let offset = 0;
  for (const token of full) {
    const end = offset + token.length;
    if (end > prefix.length) out.push(offset >= prefix.length ? token : token.slice(prefix.length - offset));
    offset = end;
  }
  return out;
}

/** Rough token count of a text, about four characters a token as in common BPE vocabularies. */
export function countTokens(text: string): number {
  return text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4));
}

/** Prompt tokens of a chat, with a few tokens of template per message as chat templates add. */
export function countPromptTokens(messages: readonly ChatMessage[]): number {
  let total = 1;
  for (const message of messages) total += 4 + countTokens(message.content);
  return total;
}

/** A fake token id list for /api/generate's deprecated `context` field. */
export function contextIds(tokens: readonly string[]): number[] {
  return tokens.map((token) => fnv1a(token) % 128_000);
}
