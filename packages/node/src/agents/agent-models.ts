/**
 * Which model of the home serves an agent: the first of its preferred models that some node has,
 * else the smallest model that has the fallback's capabilities and at least its size (small
 * enough to answer soon on a home machine, big enough for the agent's work).
 */
import { normalizeModelName } from '@allerac/router';
import type { BackendModel, OllamaObject } from '../backend/backend.js';
import type { AgentView } from '../contract/agents.js';
import type { InferenceGateway } from '../inference/gateway.js';

/** The model an agent resolved to. */
export interface ResolvedModel {
  /** Its name as the home lists it. */
  name: string;
  /** Its /api/tags entry. */
  entry: BackendModel;
  /** Its capabilities as /api/show gives them. */
  capabilities: string[];
}

/** Billions of parameters of an Ollama `parameter_size` ("7.6B", "494.03M"), or undefined. */
export function paramsInBillions(size: string | undefined): number | undefined {
  const match = /^\s*([\d.]+)\s*([KMBT])\s*$/i.exec(size ?? '');
  if (match === null) return undefined;
  const scale = { K: 1e-6, M: 1e-3, B: 1, T: 1e3 }[
    (match[2] as string).toUpperCase() as 'K' | 'M' | 'B' | 'T'
  ];
  const value = Number(match[1]) * scale;
  return Number.isFinite(value) ? value : undefined;
}

/** Resolves agents to models, remembering each model's capabilities (they change only with its digest). */
export class AgentModelResolver {
  private readonly capabilitiesByModel = new Map<string, Promise<string[] | undefined>>();

  constructor(private readonly gateway: Pick<InferenceGateway, 'models' | 'show'>) {}

  /** The model that serves `agent` now, or undefined when the home has none that fits. */
  async resolve(agent: AgentView, models?: BackendModel[]): Promise<ResolvedModel | undefined> {
    const available = models ?? (await this.gateway.models());
    const byName = new Map(available.map((m) => [normalizeModelName(m.name), m]));
    for (const preferred of agent.models.preferred) {
      const entry = byName.get(normalizeModelName(preferred));
      if (entry === undefined) continue;
      return { name: entry.name, entry, capabilities: (await this.capabilities(entry)) ?? ['completion'] };
    }
    const wanted = new Set<string>(['completion', ...agent.models.fallback.capabilities]);
    const sized = available
      .map((entry) => ({ entry, params: paramsInBillions(entry.details?.parameter_size) }))
      .filter(
        ({ params }) =>
          agent.models.fallback.minParamsB === 0 || (params ?? 0) >= agent.models.fallback.minParamsB,
      )
      .sort((a, b) => (a.params ?? 0) - (b.params ?? 0) || a.entry.name.localeCompare(b.entry.name));
    for (const { entry } of sized) {
      const capabilities = await this.capabilities(entry);
      if (capabilities !== undefined && [...wanted].every((c) => capabilities.includes(c))) {
        return { name: entry.name, entry, capabilities };
      }
    }
    return undefined;
  }

  private capabilities(entry: BackendModel): Promise<string[] | undefined> {
    const key = `${normalizeModelName(entry.name)}\u0000${entry.digest}\u0000${entry.modified_at}`;
    let known = this.capabilitiesByModel.get(key);
    if (known === undefined) {
      known = this.gateway.show({ model: entry.name }).then(
        (shown: OllamaObject) =>
          Array.isArray(shown.capabilities)
            ? shown.capabilities.filter((c) => typeof c === 'string')
            : ['completion'],
        () => {
          // Not remembered: the holder may answer next time.
          this.capabilitiesByModel.delete(key);
          return undefined;
        },
      );
      this.capabilitiesByModel.set(key, known);
    }
    return known;
  }
}
