/**
 * The home's agents: the built-ins (in code) with their edits, and the agents people made, held
 * in one reserved Automerge document (`.agents`) synced with every paired node like a shared
 * space with `peers: 'all'`, and persisted with the spaces. Each entry is one agent as JSON; an
 * entry a peer wrote that is not a valid AgentView is ignored with a warning and changes nothing.
 */
import type { SpaceSync } from '@allerac/memory-sync';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import {
  type AgentUpdateBody,
  AgentView,
  BUILT_IN_AGENT_SLUGS,
  MAX_AGENT_PROMPT_BYTES,
  type NewAgentBody,
} from '../contract/agents.js';
import { BUILT_IN_AGENTS, builtInAgent } from './built-in.js';
import { AgentExistsError, AgentNotFoundError, InvalidAgentError } from './errors.js';

/** The reserved document of the agents. */
export const AGENTS_DOC = '.agents';

const utf8 = new TextEncoder();

/** Reads and writes the home's agents. */
export class AgentStore {
  private readonly listeners = new Set<() => void>();
  /** Entries already warned about, so a bad peer entry is reported once, not at every read. */
  private readonly warned = new Set<string>();
  private opened: Promise<void> | undefined;
  /**
   * The document's valid agents, parsed and checked once per change of the document: every chat
   * with an agent and every model list reads them, and the document changes rarely.
   */
  private parsed: Map<string, AgentView> | undefined;

  constructor(
    private readonly sync: SpaceSync,
    private readonly logger: Logger,
  ) {}

  /** Opens the agents document; idempotent. */
  start(): Promise<void> {
    this.opened ??= (async () => {
      await this.sync.openReserved(AGENTS_DOC);
      this.sync.onEntriesChanged((event) => {
        if (event.doc !== AGENTS_DOC) return;
        this.parsed = undefined;
        for (const listener of this.listeners) listener();
      });
    })();
    return this.opened;
  }

  /** Subscribes to changes (local or from a peer); returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every agent: the built-ins first (edited or not), then the others by name. */
  list(): AgentView[] {
    const stored = this.stored();
    const builtIns = BUILT_IN_AGENT_SLUGS.map((slug) => stored.get(slug) ?? BUILT_IN_AGENTS[slug]);
    const custom = [...stored.values()]
      .filter((agent) => builtInAgent(agent.slug) === undefined)
      .sort((a, b) => a.name.localeCompare(b.name) || a.slug.localeCompare(b.slug));
    return [...builtIns, ...custom];
  }

  /** The agent of that slug, or undefined. */
  find(slug: string): AgentView | undefined {
    return this.stored().get(slug) ?? builtInAgent(slug);
  }

  /** The agent of that slug; throws AgentNotFoundError. */
  get(slug: string): AgentView {
    const agent = this.find(slug);
    if (agent === undefined) throw new AgentNotFoundError(slug);
    return agent;
  }

  /** Creates an agent; throws AgentExistsError when the slug is taken (a built-in's included). */
  async create(input: NewAgentBody): Promise<AgentView> {
    if (this.find(input.slug) !== undefined) throw new AgentExistsError(input.slug);
    const agent = complete(input.slug, input, undefined);
    await this.write(agent);
    return agent;
  }

  /** Changes the given fields of an agent; the others keep their value. */
  async update(slug: string, change: AgentUpdateBody): Promise<AgentView> {
    const agent = complete(slug, change, this.get(slug));
    await this.write(agent);
    return agent;
  }

  /** Deletes a custom agent, or restores a built-in's original (returned). */
  async delete(slug: string): Promise<AgentView | undefined> {
    const original = builtInAgent(slug);
    if (original === undefined && this.find(slug) === undefined) throw new AgentNotFoundError(slug);
    await this.sync.removeEntry(AGENTS_DOC, slug);
    return original;
  }

  private async write(agent: AgentView): Promise<void> {
    await this.sync.putEntry(AGENTS_DOC, agent.slug, JSON.stringify(agent));
  }

  /** The document's valid agents by slug; anything else a peer wrote is skipped. */
  private stored(): Map<string, AgentView> {
    if (this.parsed !== undefined) return this.parsed;
    const out = new Map<string, AgentView>();
    if (this.opened === undefined) return out;
    let entries: Map<string, string>;
    try {
      entries = this.sync.entries(AGENTS_DOC);
    } catch {
      // Not open yet (start() is under way): nothing to keep.
      return out;
    }
    for (const [key, json] of entries) {
      const agent = parseAgent(json);
      if (agent !== undefined && agent.slug === key) {
        const { edited: _claimed, ...rest } = agent;
        const builtIn = builtInAgent(key) !== undefined;
        out.set(key, builtIn ? { ...rest, builtIn, edited: true } : { ...rest, builtIn });
        continue;
      }
      const mark = `${key}\u0000${json.length}`;
      if (!this.warned.has(mark)) {
        this.warned.add(mark);
        this.logger.warn(
          { slug: key.slice(0, 64), bytes: json.length },
          'ignoring an invalid agent from the agents document',
        );
      }
    }
    this.parsed = out;
    return out;
  }
}

/** An agent from its JSON, when it is a valid one within the limits. */
function parseAgent(json: string): AgentView | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!Value.Check(AgentView, value)) return undefined;
  return promptFits(value.systemPrompt) ? value : undefined;
}

function promptFits(prompt: string): boolean {
  return utf8.encode(prompt).length <= MAX_AGENT_PROMPT_BYTES;
}

/** The whole agent: `input` over `base` (or the defaults of a new one), checked as a whole. */
function complete(slug: string, input: AgentUpdateBody, base: AgentView | undefined): AgentView {
  const agent: AgentView = {
    slug,
    name: input.name ?? base?.name ?? slug,
    description: input.description ?? base?.description ?? '',
    icon: input.icon ?? base?.icon ?? '🤖',
    systemPrompt: input.systemPrompt ?? base?.systemPrompt ?? '',
    models: input.models ??
      base?.models ?? { preferred: [], fallback: { capabilities: ['completion'], minParamsB: 0 } },
    memory: input.memory ?? base?.memory ?? { spaces: [], write: false },
    tools: input.tools ??
      base?.tools ?? { allowed: [], homeAssistantDomains: [], allowActions: false, maxSteps: 1 },
    sampling: input.sampling ?? base?.sampling ?? {},
    builtIn: builtInAgent(slug) !== undefined,
    updatedAt: new Date().toISOString(),
  };
  if (agent.builtIn) agent.edited = true;
  if (!promptFits(agent.systemPrompt)) {
    throw new InvalidAgentError(`systemPrompt is longer than ${MAX_AGENT_PROMPT_BYTES} bytes of UTF-8`, {
      param: 'systemPrompt',
    });
  }
  if (!Value.Check(AgentView, agent)) {
    const first = [...Value.Errors(AgentView, agent)][0];
    throw new InvalidAgentError(`invalid agent: ${first?.path ?? ''} ${first?.message ?? ''}`.trim());
  }
  return agent;
}
