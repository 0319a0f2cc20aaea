/**
 * What a model answers, token by token: thinking first (for thinking models), then either one tool
 * call, JSON for `format`, or the deterministic text. Every part is a pure function of the weights,
 * the conversation and the request, so any node holding the same model gives the same reply.
 */
import { valueForSchema } from './schema-values.js';
import {
  answerTokens,
  type ChatMessage,
  conversationKey,
  countTokens,
  fnv1a,
  sentenceTokens,
  splitTrailingAssistant,
  type ToolCall,
  tokensToEmit,
  vocabularyWord,
  XorShift32,
} from './text.js';
import type { ScriptedToolCall } from './types.js';

/** `think` as ThinkValue holds it: a bool or a level. */
export type ThinkSetting = boolean | 'low' | 'medium' | 'high' | 'max';

/** A parsed `format`: JSON mode or a JSON schema. */
export type OutputFormat = { kind: 'json' } | { kind: 'schema'; schema: Record<string, unknown> };

/** A tool offered in `tools` (api.Tool). */
export interface ToolSpec {
  type?: string;
  function: { name: string; description?: string; parameters?: unknown };
}

/** One generated token: thinking or content text, or the tool calls it completes. */
export interface ReplyPiece {
  content: string;
  thinking: string;
  toolCalls?: ToolCall[];
}

/** The whole reply and why it ended. */
export interface ReplyPlan {
  pieces: ReplyPiece[];
  doneReason: 'stop' | 'length';
}

/** What a reply depends on. */
export interface ReplyRequest {
  /** The model's weights, which tell answers apart (copies share them). */
  weights: string;
  messages: ChatMessage[];
  tools: ToolSpec[];
  /** Whether and how hard to think; only set for thinking models. */
  think: ThinkSetting | undefined;
  format: OutputFormat | undefined;
  numPredict: number | undefined;
  /** Scripted tool calls (see `scriptedToolCalls`) made in place of the generated one. */
  toolCalls?: ToolCall[] | undefined;
}

/** Natural thinking length per level; `true` means medium, as ThinkValue.String() has it. */
const THINKING_TOKENS: Record<string, number> = { low: 12, medium: 24, high: 48, max: 96 };

/** The thinking text before an answer, longer for higher levels. */
export function thinkingTokens(
  weights: string,
  conversation: readonly ChatMessage[],
  think: ThinkSetting,
): string[] {
  const level = think === true ? 'medium' : String(think);
  const base = THINKING_TOKENS[level] ?? THINKING_TOKENS.medium!;
  const rng = new XorShift32(fnv1a(`think:${level}\u241d${conversationKey(weights, conversation)}`));
  return sentenceTokens(rng, base + (rng.next() % base), undefined);
}

function lastWord(text: string): string {
  return text.match(/[\p{L}\p{N}]+/gu)?.at(-1) ?? '';
}

/**
 * The call a model makes when offered tools after a user message: the first tool, with arguments
 * built from its parameter schema (strings take the last word of the user's message) and an id
 * shaped like Ollama's toolCallId (`call_` and 8 of [a-z0-9]).
 */
export function toolCallFor(
  weights: string,
  conversation: readonly ChatMessage[],
  tools: readonly ToolSpec[],
): ToolCall {
  const tool = tools[0]!;
  const rng = new XorShift32(fnv1a(`tools\u241d${conversationKey(weights, conversation)}`));
  const word = lastWord(conversation.at(-1)?.content ?? '');
  const args = valueForSchema(tool.function.parameters ?? { type: 'object' }, {
    string: () => word,
    integer: () => rng.next() % 100,
    boolean: () => (rng.next() & 1) === 1,
  });
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = 'call_';
  for (let i = 0; i < 8; i++) id += alphabet[rng.next() % alphabet.length];
  const argumentsObject =
    args !== null && typeof args === 'object' && !Array.isArray(args)
      ? (args as Record<string, unknown>)
      : {};
  return { id, function: { index: 0, name: tool.function.name, arguments: argumentsObject } };
}

/** The JSON text a `format` asks for: `{"answer": ...}` in JSON mode, else a value of the schema. */
export function formattedText(
  weights: string,
  conversation: readonly ChatMessage[],
  format: OutputFormat,
): string {
  if (format.kind === 'json') return JSON.stringify({ answer: answerTokens(weights, conversation).join('') });
  const rng = new XorShift32(fnv1a(`format\u241d${conversationKey(weights, conversation)}`));
  const value = valueForSchema(format.schema, {
    string: () => {
      const count = 1 + (rng.next() % 3);
      return Array.from({ length: count }, () => vocabularyWord(rng)).join(' ');
    },
    integer: () => rng.next() % 100,
    boolean: () => (rng.next() & 1) === 1,
  });
  return JSON.stringify(value);
}

/** Splits text into word-sized tokens (leading whitespace kept with the token), losslessly. */
export function textTokens(text: string): string[] {
  return text.match(/\s*[\p{L}\p{N}_]+|\s*[^\p{L}\p{N}_\s]|\s+$/gu) ?? [];
}

function content(text: string): ReplyPiece {
  return { content: text, thinking: '' };
}

/**
 * The plan for a scripted reply: when the last user message's text is a key of `replies`, its
 * value is the answer (a markdown sample for a UI test, say), split into word-sized tokens. With a
 * trailing assistant prefix of that answer, only the rest is sent, as for generated answers.
 */
export function scriptedPlan(
  replies: ReadonlyMap<string, string>,
  messages: readonly ChatMessage[],
): ReplyPlan | undefined {
  if (replies.size === 0) return undefined;
  const { conversation, prefix } = splitTrailingAssistant(messages);
  const last = conversation.at(-1);
  const text = last?.role === 'user' ? replies.get(last.content) : undefined;
  if (text === undefined) return undefined;
  const rest = prefix !== undefined && text.startsWith(prefix) ? text.slice(prefix.length) : text;
  return { pieces: textTokens(rest).map(content), doneReason: 'stop' };
}

/**
 * The scripted calls for a chat offered `tools` whose last message is a user message with a key
 * of `scripts`: each becomes a tool call with an id like Ollama's. Ollama's tool parser
 * (tools/tools.go findTool) only recognises the names of the tools offered, so a script naming
 * any other tool does not apply and the model answers as unscripted.
 */
export function scriptedToolCalls(
  scripts: ReadonlyMap<string, readonly ScriptedToolCall[]>,
  weights: string,
  messages: readonly ChatMessage[],
  tools: readonly ToolSpec[],
): ToolCall[] | undefined {
  if (scripts.size === 0 || tools.length === 0) return undefined;
  const last = messages.at(-1);
  const script = last?.role === 'user' ? scripts.get(last.content) : undefined;
  if (script === undefined || script.length === 0) return undefined;
  const offered = new Set(tools.map((tool) => tool.function.name));
  if (!script.every((call) => offered.has(call.name))) return undefined;
  const generated = toolCallFor(weights, messages, tools);
  return script.map((call, index) => ({
    id: index === 0 ? generated.id : `${generated.id!.slice(0, -1)}${index % 10}`,
    function: { index, name: call.name, arguments: structuredClone(call.arguments) },
  }));
}

/** Plans the reply to `request`. */
export function planReply(request: ReplyRequest): ReplyPlan {
  const { weights, messages, tools, think, format, numPredict } = request;
  const { conversation, prefix } = splitTrailingAssistant(messages);
  if (prefix !== undefined) {
    // Continuing an assistant message: its thinking is over, only the text goes on.
    return {
      pieces: tokensToEmit(weights, messages, numPredict).map(content),
      doneReason: numPredict !== undefined ? 'length' : 'stop',
    };
  }
  const pieces: ReplyPiece[] = [];
  let budget = numPredict;
  if (think !== undefined && think !== false) {
    const thought = thinkingTokens(weights, conversation, think);
    if (budget !== undefined && budget <= thought.length) {
      return {
        pieces: thought.slice(0, budget).map((t) => ({ content: '', thinking: t })),
        doneReason: 'length',
      };
    }
    pieces.push(...thought.map((t) => ({ content: '', thinking: t })));
    if (budget !== undefined) budget -= thought.length;
  }
  if (tools.length > 0 && conversation.at(-1)?.role === 'user') {
    const calls = request.toolCalls ?? [toolCallFor(weights, conversation, tools)];
    const cost = calls.reduce(
      (sum, call) =>
        sum +
        countTokens(JSON.stringify({ name: call.function.name, arguments: call.function.arguments })) +
        2,
      0,
    );
    if (budget !== undefined && budget < cost) {
      // Cut off mid-call: the tool parser never sees a whole call and nothing is shown.
      pieces.push(...Array.from({ length: budget }, () => content('')));
      return { pieces, doneReason: 'length' };
    }
    pieces.push(...Array.from({ length: cost - 1 }, () => content('')), {
      content: '',
      thinking: '',
      toolCalls: calls,
    });
    return { pieces, doneReason: 'stop' };
  }
  if (format !== undefined) {
    const tokens = textTokens(formattedText(weights, conversation, format));
    const cut = budget !== undefined && budget < tokens.length;
    pieces.push(...(cut ? tokens.slice(0, budget) : tokens).map(content));
    return { pieces, doneReason: cut ? 'length' : 'stop' };
  }
  pieces.push(...answerTokens(weights, conversation, budget).map(content));
  return { pieces, doneReason: budget !== undefined ? 'length' : 'stop' };
}
