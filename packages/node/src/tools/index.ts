/**
 * The server-side tool loop (issue #18): an agent's tools are offered to the model, each call is
 * checked and run by the node, and the answer streams to the client as ordinary chunks.
 *
 * @example
 * ```ts
 * const registry = new ToolRegistry(createHomeAssistantTools({ client: () => ha.client() }));
 * const stream = await runToolLoop({
 *   request, agent, registry, signal,
 *   chat: (body, signal) => gateway.generate('chat', body, signal),
 *   onToolCall: (event) => log.push(event),
 * });
 * ```
 */
export { createToolChatRunner, type ToolChatRunnerInit } from './agent-chat-runner.js';
export { DEFAULT_TOOL_LOOP_TIME_LIMIT_MS, MAX_TOOL_RESULT_CHARS } from './constants.js';
export { ToolArgumentsError, ToolRefusedError, UnknownToolError } from './errors.js';
export { defineTool, type Tool, type ToolContext } from './tool.js';
export {
  type ChatFunction,
  ollamaTools,
  runToolLoop,
  type ToolCallEvent,
  type ToolLoopOptions,
  type ToolLoopStop,
} from './tool-loop.js';
export { DuplicateToolError, ToolRegistry } from './tool-registry.js';
