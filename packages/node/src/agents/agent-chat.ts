/**
 * The one seam where a chat with an agent reaches the gateway: it gets the resolved agent and
 * the request already rewritten for it (model, system prompt, sampling, specialisation). The
 * server-side tool loop (tools/) runs here for agents that allow tools.
 */
import type { OllamaObject } from '../backend/backend.js';
import type { AgentView } from '../contract/agents.js';
import type {
  GenerationKind,
  InferenceGateway,
  InferenceStream,
  PrepareRequest,
} from '../inference/gateway.js';

/** One chat with an agent, ready to route. */
export interface AgentChat {
  /** The agent as it is now. */
  agent: AgentView;
  /** The model it resolved to. */
  model: string;
  kind: GenerationKind;
  /** The rewritten request (its `model` is `model`). */
  request: OllamaObject;
  signal: AbortSignal;
  /** The chat's per-node preparation (memories), if any. */
  prepare?: PrepareRequest | undefined;
}

/** Runs a chat with an agent through the gateway. */
export type AgentChatRunner = (chat: AgentChat, gateway: InferenceGateway) => Promise<InferenceStream>;

/** Routes the chat as any other: no tools yet. */
export const runAgentChat: AgentChatRunner = (chat, gateway) =>
  gateway.generate(chat.kind, chat.request, chat.signal, chat.prepare);
