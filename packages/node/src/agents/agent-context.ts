/**
 * The chat hook for agents: a chat with `agent/<slug>` draws only on the memories its agent may
 * read (`memory.spaces`); any other chat is left to the inner hook as it is.
 */
import type { ChatContextHook } from '../inference/chat-context.js';
import { agentSlugOf } from './agent-request.js';
import type { AgentStore } from './agent-store.js';

/** `inner`, restricted to each agent's memory spaces for chats with an agent. */
export function agentChatContext(inner: ChatContextHook, agents: Pick<AgentStore, 'find'>): ChatContextHook {
  return (request, caller) => {
    const slug = agentSlugOf(request.model);
    const agent = slug === undefined ? undefined : agents.find(slug);
    if (agent === undefined) return inner(request, caller);
    return inner(request, {
      ...caller,
      memorySpaces: agent.memory.spaces,
      agent: { slug: agent.slug, memoryWrite: agent.memory.write },
    });
  };
}
