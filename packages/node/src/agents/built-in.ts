/**
 * The four agents every home starts with. They live in code, not in the agents document: the
 * document holds only edits of them, so a node that never saw an edit still has them, and
 * deleting an edit restores the original.
 */
import type { AgentView, BUILT_IN_AGENT_SLUGS } from '../contract/agents.js';

type BuiltInSlug = (typeof BUILT_IN_AGENT_SLUGS)[number];

/** When a built-in's definition last changed; an edit made later wins over it. */
const DEFINED_AT = '2026-12-01T00:00:00.000Z';

const NO_TOOLS = { allowed: [], homeAssistantDomains: [], allowActions: false, maxSteps: 1 };

/** The built-ins' originals, by slug. */
export const BUILT_IN_AGENTS: Readonly<Record<BuiltInSlug, AgentView>> = {
  'code-assistant': {
    slug: 'code-assistant',
    name: 'Code assistant',
    description: 'Writes, explains, reviews and debugs code.',
    icon: '💻',
    systemPrompt: [
      'You are a senior software engineer helping someone at home with code.',
      'Answer with working, idiomatic code in fenced blocks tagged with the language, and keep prose short.',
      'When a request is ambiguous, state the assumption you make. When you fix a bug, say what caused it.',
      'Prefer the standard library and well-kept dependencies; point out security problems you notice.',
      'Never invent APIs: if you are not sure a function exists, say so.',
    ].join('\n'),
    models: {
      preferred: ['qwen2.5-coder:7b', 'qwen2.5-coder:14b', 'qwen2.5-coder:3b'],
      fallback: { capabilities: ['completion', 'tools'], minParamsB: 7 },
    },
    memory: { spaces: [], write: false },
    tools: NO_TOOLS,
    sampling: { temperature: 0.2 },
    builtIn: true,
    updatedAt: DEFINED_AT,
  },
  research: {
    slug: 'research',
    name: 'Research',
    description: "Finds and weighs information in the home's documents and memories.",
    icon: '🔎',
    systemPrompt: [
      'You are a careful research assistant.',
      "Search the home's documents and memories before answering, and say which ones you used.",
      'Separate what the sources say from your own reasoning, and say plainly when they do not answer the question.',
      'Summarise first, then give the details; keep quotations short and exact.',
    ].join('\n'),
    models: {
      preferred: ['qwen3:8b', 'llama3.1:8b'],
      fallback: { capabilities: ['completion', 'tools'], minParamsB: 7 },
    },
    memory: { spaces: ['private', '*'], write: true },
    tools: { allowed: ['documents.search'], homeAssistantDomains: [], allowActions: false, maxSteps: 6 },
    sampling: { temperature: 0.3 },
    builtIn: true,
    updatedAt: DEFINED_AT,
  },
  'creative-writing': {
    slug: 'creative-writing',
    name: 'Creative writing',
    description: 'Stories, poems, letters and ideas, in the voice you ask for.',
    icon: '✍️',
    systemPrompt: [
      'You are a creative writing partner.',
      'Match the tone, form and length the person asks for; when they do not say, keep it short and offer to go on.',
      'Use concrete images and varied rhythm, avoid clichés, and never explain the piece unless asked.',
      'When asked for ideas, give several distinct ones rather than one.',
    ].join('\n'),
    models: {
      preferred: ['mistral:7b', 'llama3.1:8b', 'gemma3:4b'],
      fallback: { capabilities: ['completion'], minParamsB: 3 },
    },
    memory: { spaces: [], write: false },
    tools: NO_TOOLS,
    sampling: { temperature: 0.9, top_p: 0.95 },
    builtIn: true,
    updatedAt: DEFINED_AT,
  },
  'home-automation': {
    slug: 'home-automation',
    name: 'Home automation',
    description: 'Checks and controls the lights, switches, climate, covers and media players.',
    icon: '🏠',
    systemPrompt: [
      "You control the home's devices through Home Assistant tools.",
      'List the devices or read their state before acting; never guess an entity id.',
      'Do exactly what was asked and nothing more, then say in one sentence what you changed.',
      'If a request is unclear or could be unsafe (heating, locks, covers at night), ask before acting.',
    ].join('\n'),
    models: {
      preferred: ['qwen2.5:7b', 'llama3.1:8b', 'qwen3:8b'],
      fallback: { capabilities: ['completion', 'tools'], minParamsB: 3 },
    },
    memory: { spaces: [], write: false },
    tools: {
      allowed: ['ha.list_devices', 'ha.get_state', 'ha.call_service'],
      homeAssistantDomains: ['light', 'switch', 'climate', 'cover', 'media_player'],
      allowActions: true,
      maxSteps: 8,
    },
    sampling: { temperature: 0.1 },
    builtIn: true,
    updatedAt: DEFINED_AT,
  },
};

/** The routing specialisation (contract/vocabulary.ts) a built-in's chats ask for. */
export const BUILT_IN_SPECIALIZATION: Readonly<Record<BuiltInSlug, string>> = {
  'code-assistant': 'code',
  research: 'research',
  'creative-writing': 'creative',
  'home-automation': 'home',
};

/** The built-in of that slug, or undefined. */
export function builtInAgent(slug: string): AgentView | undefined {
  return Object.hasOwn(BUILT_IN_AGENTS, slug) ? BUILT_IN_AGENTS[slug as BuiltInSlug] : undefined;
}
