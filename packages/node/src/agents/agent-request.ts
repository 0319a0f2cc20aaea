/**
 * A request to `agent/<slug>` as the resolved model is to get it: the agent's system prompt
 * first (a client's own system message stays, after it), its sampling defaults under the
 * request's own options, and its routing specialisation unless the request names one.
 */
import type { OllamaObject } from '../backend/backend.js';
import { AGENT_MODEL_PREFIX, type AgentView } from '../contract/agents.js';
import type { GenerationKind } from '../inference/gateway.js';
import { BUILT_IN_SPECIALIZATION } from './built-in.js';

/** The slug of an agent model name (`agent/code-assistant` → `code-assistant`), or undefined. */
export function agentSlugOf(model: unknown): string | undefined {
  if (typeof model !== 'string' || !model.startsWith(AGENT_MODEL_PREFIX)) return undefined;
  // Ollama's default tag: a client may send `agent/research:latest`.
  return model.slice(AGENT_MODEL_PREFIX.length).replace(/:latest$/, '');
}

/** The model name under which clients see an agent. */
export const agentModelName = (agent: Pick<AgentView, 'slug'>) => `${AGENT_MODEL_PREFIX}${agent.slug}`;

/** The routing specialisation an agent's chats ask for, if any. */
export function specializationOf(agent: AgentView): string | undefined {
  return Object.hasOwn(BUILT_IN_SPECIALIZATION, agent.slug)
    ? BUILT_IN_SPECIALIZATION[agent.slug as keyof typeof BUILT_IN_SPECIALIZATION]
    : undefined;
}

/** The request rewritten for `model`, as `agent` shapes it. */
export function rewriteForAgent(
  kind: GenerationKind,
  request: OllamaObject,
  agent: AgentView,
  model: string,
): OllamaObject {
  const options = typeof request.options === 'object' && request.options !== null ? request.options : {};
  const routing = (
    typeof request.allerac === 'object' && request.allerac !== null ? request.allerac : {}
  ) as Record<string, unknown>;
  const specialization = specializationOf(agent);
  const out: OllamaObject = {
    ...request,
    model,
    options: { ...agent.sampling, ...options },
  };
  if (specialization !== undefined && routing.specialization === undefined) {
    out.allerac = { ...routing, specialization };
  }
  const prompt = agent.systemPrompt;
  if (prompt.trim() === '') return out;
  if (kind === 'chat') {
    const messages = Array.isArray(request.messages) ? request.messages : [];
    out.messages = [{ role: 'system', content: prompt }, ...messages];
  } else {
    const own = typeof request.system === 'string' && request.system !== '' ? request.system : undefined;
    out.system = own === undefined ? prompt : `${prompt}\n\n${own}`;
  }
  return out;
}
