/**
 * Agents as models: the gateway every client API goes through, with each agent listed as
 * `agent/<slug>` (/api/tags, /v1/models), shown (/api/show) and served: a chat with it goes to
 * the model it resolves to, shaped by it (agent-request.ts), through the agent-chat seam. The
 * answer carries the agent's name as its model, and `allerac: { agent, model }` on its final chunk.
 */
import type { Logger } from 'pino';
import type { BackendModel, OllamaObject } from '../backend/backend.js';
import type { AgentView } from '../contract/agents.js';
import type { AnswerAggregate } from '../inference/aggregate.js';
import { ModelNotFoundError } from '../inference/errors.js';
import type {
  GenerationKind,
  InferenceGateway,
  InferenceStream,
  PrepareRequest,
} from '../inference/gateway.js';
import { type AgentChatRunner, runAgentChat } from './agent-chat.js';
import { AgentModelResolver, type ResolvedModel } from './agent-models.js';
import { agentModelName, agentSlugOf, rewriteForAgent } from './agent-request.js';
import type { AgentStore } from './agent-store.js';

/** What the agent gateway needs. */
export interface AgentGatewayDeps {
  agents: Pick<AgentStore, 'list' | 'find'>;
  logger: Logger;
  /** Runs a resolved agent chat (agent-chat.ts); the default routes it as any chat. */
  run?: AgentChatRunner;
}

/** No agent of that slug: Ollama's own words for an unknown model. */
function agentNotFound(model: string): ModelNotFoundError {
  return new ModelNotFoundError(model, `model "${model}" not found`);
}

/** `inner` with the home's agents as models. */
export function withAgents(inner: InferenceGateway, deps: AgentGatewayDeps): InferenceGateway {
  const resolver = new AgentModelResolver(inner);
  const run = deps.run ?? runAgentChat;

  const find = (model: unknown): AgentView | undefined => {
    const slug = agentSlugOf(model);
    return slug === undefined ? undefined : deps.agents.find(slug);
  };
  const resolveOrThrow = async (agent: AgentView): Promise<ResolvedModel> => {
    const resolved = await resolver.resolve(agent);
    if (resolved !== undefined) return resolved;
    const { preferred, fallback } = agent.models;
    throw new ModelNotFoundError(
      agentModelName(agent),
      `no model in the home fits agent "${agent.slug}": none of [${preferred.join(', ')}] and none with ${fallback.capabilities.join('+') || 'completion'} of at least ${fallback.minParamsB}B parameters; pull one or edit the agent`,
    );
  };

  return {
    models: async () => {
      const models = await inner.models();
      const agents = await Promise.all(
        deps.agents
          .list()
          .map(async (agent) => tagOf(agent, await resolver.resolve(agent, models).catch(() => undefined))),
      );
      return [...models, ...agents];
    },
    loaded: () => inner.loaded(),
    show: async (request) => {
      if (agentSlugOf(request.model) === undefined) return inner.show(request);
      const agent = find(request.model);
      if (agent === undefined)
        throw new ModelNotFoundError(String(request.model), `model '${String(request.model)}' not found`);
      return showOf(agent, await resolveOrThrow(agent));
    },
    version: () => inner.version(),
    embed: (request, signal) => inner.embed(request, signal),
    localModels: () => inner.localModels(),
    embedLocally: (request, signal) => inner.embedLocally(request, signal),
    generate: async (
      kind: GenerationKind,
      request: OllamaObject,
      signal: AbortSignal,
      prepare?: PrepareRequest,
    ) => {
      if (agentSlugOf(request.model) === undefined) return inner.generate(kind, request, signal, prepare);
      const agent = find(request.model);
      if (agent === undefined) throw agentNotFound(String(request.model));
      const resolved = await resolveOrThrow(agent);
      deps.logger.debug({ agent: agent.slug, model: resolved.name }, 'agent chat resolved');
      const stream = await run(
        {
          agent,
          model: resolved.name,
          kind,
          request: rewriteForAgent(kind, request, agent, resolved.name),
          signal,
          prepare,
        },
        inner,
      );
      return asAgent(stream, agentModelName(agent), { agent: agent.slug, model: resolved.name });
    },
  };
}

/** The agent's /api/tags entry: the details of the model it resolves to, when one does. */
function tagOf(agent: AgentView, resolved: ResolvedModel | undefined): BackendModel {
  const name = agentModelName(agent);
  return {
    name,
    model: name,
    size: resolved?.entry.size ?? 0,
    digest: '',
    modified_at: agent.updatedAt,
    details: {
      format: resolved?.entry.details.format ?? '',
      family: resolved?.entry.details.family ?? '',
      families: resolved?.entry.details.families ?? null,
      parameter_size: resolved?.entry.details.parameter_size ?? '',
      quantization_level: resolved?.entry.details.quantization_level ?? '',
      ...(resolved === undefined ? {} : { parent_model: resolved.name }),
    },
  };
}

/** The agent's /api/show: its prompt as `system`, the capabilities and details of its model. */
function showOf(agent: AgentView, resolved: ResolvedModel): OllamaObject {
  const parameters = Object.entries(agent.sampling)
    .map(([key, value]) => `${key.padEnd(30)} ${String(value)}`)
    .join('\n');
  return {
    modelfile: `FROM ${resolved.name}\nSYSTEM """${agent.systemPrompt}"""\n`,
    parameters,
    template: '',
    system: agent.systemPrompt,
    details: { ...tagOf(agent, resolved).details },
    model_info: {},
    capabilities: resolved.capabilities,
    modified_at: agent.updatedAt,
    allerac: { agent: agent.slug, model: resolved.name },
  };
}

/** The stream with the agent's name as the model of every chunk and its metadata on the final one. */
function asAgent(
  inner: InferenceStream,
  name: string,
  extra: { agent: string; model: string },
): InferenceStream {
  const rename = (chunk: OllamaObject): OllamaObject =>
    'model' in chunk ? { ...chunk, model: name } : chunk;
  const answer = new Proxy(inner.answer, {
    get(target, property, receiver) {
      if (property === 'toResponse') return () => rename(target.toResponse());
      return Reflect.get(target, property, receiver);
    },
  }) as AnswerAggregate;
  return {
    firstChoice: inner.firstChoice,
    first: rename(inner.first),
    rest: {
      async *[Symbol.asyncIterator]() {
        for await (const batch of inner.rest) yield batch.map(rename);
      },
    },
    answer,
    servedBy: () => ({ ...inner.servedBy(), ...extra }),
    preparedFor: () => inner.preparedFor(),
  };
}
