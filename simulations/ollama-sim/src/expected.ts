/** What the simulator will answer to a chat, for assertions in tests. */
import { resolveModel, weightsName } from './catalog.js';
import { planReply } from './reply.js';
import { parseChatRequest, parseFormat } from './requests.js';
import { fromApiMessages, type ToolCall } from './text.js';
import type { SimModel } from './types.js';

/** A whole chat reply: the text, the thinking before it and the tool calls. */
export interface ExpectedReply {
  content: string;
  thinking: string;
  tool_calls: ToolCall[];
}

/**
 * The reply `/api/chat` gives to `request` (its messages, tools, think, format and options) on a
 * catalog model or the SimModel given, as one non-streamed message would carry it.
 */
export function expectedReply(model: string | SimModel, request: Record<string, unknown>): ExpectedReply {
  const resolved = resolveModel(model);
  const parsed = parseChatRequest({ ...request, model: resolved.name });
  const thinks = resolved.capabilities.includes('thinking');
  const plan = planReply({
    weights: weightsName(resolved.name),
    messages: fromApiMessages(parsed.messages, resolved.capabilities.includes('vision')),
    tools: resolved.capabilities.includes('tools') ? parsed.tools : [],
    think: thinks ? (parsed.think ?? true) : undefined,
    format: parseFormat(parsed.format),
    numPredict: parsed.numPredict,
  });
  return {
    content: plan.pieces.map((piece) => piece.content).join(''),
    thinking: plan.pieces.map((piece) => piece.thinking).join(''),
    tool_calls: plan.pieces.flatMap((piece) => piece.toolCalls ?? []),
  };
}
