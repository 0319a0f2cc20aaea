/**
 * The tool loop at the agents' seam (agents/agent-chat.ts): a chat with an agent that has tools
 * runs the loop; a `generate`, an agent without tools, or a client that sent tools of its own (it
 * runs them itself, as with plain Ollama) goes to the gateway as before.
 */
import type { AgentChatRunner } from '../agents/agent-chat.js';
import { runToolLoop, type ToolCallEvent } from './tool-loop.js';
import type { ToolRegistry } from './tool-registry.js';

/** Options of the runner. */
export interface ToolChatRunnerInit {
  /** The loop's time limit, ms (DEFAULT_TOOL_LOOP_TIME_LIMIT_MS). */
  timeLimitMs?: number;
  /** Called once per tool call, as soon as it finished (for live progress). */
  onToolCall?: (event: ToolCallEvent) => void;
}

/** An AgentChatRunner that runs the agent's tools on this node. */
export function createToolChatRunner(registry: ToolRegistry, init: ToolChatRunnerInit = {}): AgentChatRunner {
  return (chat, gateway) => {
    const clientTools = chat.request.tools;
    if (
      chat.kind !== 'chat' ||
      (Array.isArray(clientTools) && clientTools.length > 0) ||
      registry.forAgent(chat.agent).length === 0
    ) {
      return gateway.generate(chat.kind, chat.request, chat.signal, chat.prepare);
    }
    return runToolLoop({
      request: chat.request,
      agent: chat.agent,
      registry,
      signal: chat.signal,
      chat: (body, signal) => gateway.generate('chat', body, signal, chat.prepare),
      ...(init.onToolCall !== undefined ? { onToolCall: init.onToolCall } : {}),
      ...(init.timeLimitMs !== undefined ? { timeLimitMs: init.timeLimitMs } : {}),
    });
  };
}
