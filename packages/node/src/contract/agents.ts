/**
 * /allerac/v1/agents: the home's specialized agents (issue #18). An agent is a persona (prompt,
 * model preference, memory spaces, tools, sampling) defined once on any node and shared by the
 * home; every client sees it as a model named `agent/<slug>`.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Closed, IsoTime, RequiredText } from './schema.js';

/** What an agent slug may be: the `<slug>` of the model name `agent/<slug>`. */
export const AGENT_SLUG_PATTERN = '^[a-z0-9][a-z0-9-]{0,47}$';
/** The model-name prefix under which every client sees the agents. */
export const AGENT_MODEL_PREFIX = 'agent/';
/** The built-in agents' slugs (design.md, interface contract). */
export const BUILT_IN_AGENT_SLUGS = [
  'code-assistant',
  'research',
  'creative-writing',
  'home-automation',
] as const;

/** The longest system prompt an agent may carry (bytes of UTF-8). */
export const MAX_AGENT_PROMPT_BYTES = 16 * 1024;

/** A capability an agent's fallback model must have, in Ollama's `/api/show` vocabulary. */
export const ModelCapability = Type.Union([
  Type.Literal('completion'),
  Type.Literal('tools'),
  Type.Literal('vision'),
  Type.Literal('thinking'),
]);
export type ModelCapability = Static<typeof ModelCapability>;

/** Which model serves the agent: the first preferred one the home has, else any that fits the fallback. */
export const AgentModels = Closed({
  /** Model names in order of preference (Ollama names, e.g. `qwen2.5-coder:7b`). */
  preferred: Type.Array(RequiredText(200), { maxItems: 16 }),
  /** When none of `preferred` is in the home: any model with these capabilities and at least this size. */
  fallback: Closed({
    capabilities: Type.Array(ModelCapability, { maxItems: 4 }),
    /** Billions of parameters, at least; 0 for any size. */
    minParamsB: Type.Number({ minimum: 0, maximum: 10_000 }),
  }),
});
export type AgentModels = Static<typeof AgentModels>;

/** What the agent may read and write of the home's memories. */
export const AgentMemory = Closed({
  /** Shared spaces it may read, `private` for this node's private memories, `*` for every shared space. */
  spaces: Type.Array(RequiredText(64), { maxItems: 32 }),
  /** Whether it may propose memories from a conversation (the user keeps or discards them). */
  write: Type.Boolean(),
});
export type AgentMemory = Static<typeof AgentMemory>;

/** The tools an agent may use, run by the node itself (the server-side tool loop). */
export const AgentTools = Closed({
  /** Tool names, e.g. `ha.list_devices`, `ha.get_state`, `ha.call_service`, `documents.search`. */
  allowed: Type.Array(RequiredText(64), { maxItems: 32 }),
  /** Home Assistant domains whose services `ha.call_service` may call (e.g. `light`, `switch`). */
  homeAssistantDomains: Type.Array(RequiredText(64), { maxItems: 64 }),
  /** Whether tools that change the world (turning a device on) may run; else they are refused. */
  allowActions: Type.Boolean(),
  /** The most model turns of one answer's tool loop. */
  maxSteps: Type.Integer({ minimum: 1, maximum: 32 }),
});
export type AgentTools = Static<typeof AgentTools>;

/** Sampling defaults: Ollama `options` the agent sets unless the request sets them. */
export const AgentSampling = Closed({
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  num_ctx: Type.Optional(Type.Integer({ minimum: 256, maximum: 1_048_576 })),
});
export type AgentSampling = Static<typeof AgentSampling>;

/** An agent as the API shows it and as the home's agents document holds it. */
export const AgentView = Closed({
  slug: Type.String({ pattern: AGENT_SLUG_PATTERN }),
  name: Type.String(),
  description: Type.String(),
  /** An emoji or up to a few characters shown beside its name. */
  icon: Type.String(),
  systemPrompt: Type.String(),
  models: AgentModels,
  memory: AgentMemory,
  tools: AgentTools,
  sampling: AgentSampling,
  /** One of the four agents every home starts with (editable; deleting restores the original). */
  builtIn: Type.Boolean(),
  /** A built-in that carries an edit (deleting it restores the original); absent otherwise. */
  edited: Type.Optional(Type.Boolean()),
  updatedAt: IsoTime,
});
export type AgentView = Static<typeof AgentView>;

/** `{ agents }`: every agent of the home, built-ins first, then by name. */
export const AgentList = Closed({ agents: Type.Array(AgentView) });
export type AgentList = Static<typeof AgentList>;

/** `:slug` of /allerac/v1/agents/:slug. */
export const AgentParams = Type.Object({
  slug: Type.String({
    pattern: AGENT_SLUG_PATTERN,
    description: 'an agent slug: 1 to 48 lowercase letters, digits and "-", starting with a letter or digit',
  }),
});
export type AgentParams = Static<typeof AgentParams>;

/** The fields of an agent a client may set; what it omits keeps its value (or the default on create). */
const agentFields = {
  name: Type.Optional(RequiredText(80)),
  description: Type.Optional(Type.String({ maxLength: 500, pattern: '^[^\\u0000]*$' })),
  icon: Type.Optional(Type.String({ maxLength: 16, pattern: '^[^\\u0000]*$' })),
  systemPrompt: Type.Optional(
    Type.String({
      maxLength: MAX_AGENT_PROMPT_BYTES,
      pattern: '^[^\\u0000]*$',
      description: `a system prompt of at most ${MAX_AGENT_PROMPT_BYTES} bytes without NUL`,
    }),
  ),
  models: Type.Optional(AgentModels),
  memory: Type.Optional(AgentMemory),
  tools: Type.Optional(AgentTools),
  sampling: Type.Optional(AgentSampling),
};

/** POST /allerac/v1/agents: a new agent; `slug` and `name` are required. */
export const NewAgentBody = Type.Object({
  ...agentFields,
  slug: AgentParams.properties.slug,
  name: RequiredText(80),
});
export type NewAgentBody = Static<typeof NewAgentBody>;

/** PUT /allerac/v1/agents/:slug: the fields to change (the slug stays). */
export const AgentUpdateBody = Type.Object(agentFields);
export type AgentUpdateBody = Static<typeof AgentUpdateBody>;

/** DELETE /allerac/v1/agents/:slug: a custom agent is gone; a built-in is back to its original. */
export const AgentDeleted = Closed({
  deleted: Type.Literal(true),
  /** The built-in as restored; absent for a custom agent. */
  restored: Type.Optional(AgentView),
});
export type AgentDeleted = Static<typeof AgentDeleted>;
