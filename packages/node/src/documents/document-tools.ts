/**
 * The `documents.search` tool: the research agent's way into the home's documents. A tool's
 * result goes back to the model, and the model's next turn may run on any paired node; so the
 * tool reads only spaces shared with the whole home (policy `peers: 'all'`) that the agent may
 * read. Private documents and spaces shared with some nodes only reach a chat through its memory
 * context instead, which knows which node serves it (memory/chat-memory.ts).
 */
import { Type } from '@sinclair/typebox';
import type { AgentView } from '../contract/agents.js';
import { Closed } from '../contract/schema.js';
import type { MemoryService } from '../memory/memory-service.js';
import { defineTool, type Tool } from '../tools/tool.js';
import { MAX_DOCUMENT_HITS } from './constants.js';
import { searchDocuments } from './document-search.js';

/** The spaces the tool may search for `agent`: home-wide spaces it may read. */
export function searchableSpaces(memory: MemoryService, agent: AgentView): string[] {
  const allowed = agent.memory.spaces;
  return memory.spaces
    .spaces()
    .filter((space) => space.policy.peers === 'all')
    .map((space) => space.name)
    .filter((name) => allowed.includes('*') || allowed.includes(name));
}

/** The document tools. */
export function createDocumentTools(memory: MemoryService): Tool[] {
  const search = defineTool({
    name: 'documents.search',
    description:
      "Searches the home's shared documents (PDF, Markdown and text files) for the passages closest to a question. Cite each passage you use by its citation, such as [boiler.pdf, part 2].",
    parameters: Closed({
      query: Type.String({ minLength: 1, maxLength: 500 }),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DOCUMENT_HITS })),
    }),
    action: false,
    async run({ query, limit }, { agent, signal }) {
      const spaces = searchableSpaces(memory, agent);
      if (spaces.length === 0) return { passages: [], note: 'no shared documents this agent may read' };
      const hits = await searchDocuments(memory, query, { spaces, limit: limit ?? 5, signal });
      return {
        passages: hits.map((hit) => ({ citation: hit.citation, space: hit.space, text: hit.text })),
      };
    },
  });
  return [search];
}
