/** The tools this node can run, by name; an agent sees the ones its `tools.allowed` lists. */
import type { AgentView } from '../contract/agents.js';
import type { Tool } from './tool.js';

/** Thrown when two tools claim one name: a wiring bug. */
export class DuplicateToolError extends Error {
  override name = 'DuplicateToolError';
  constructor(readonly tool: string) {
    super(`a tool named ${tool} is registered already`);
  }
}

/** Tools by name. */
export class ToolRegistry {
  private readonly tools = new Map<string, Tool>();

  constructor(tools: readonly Tool[] = []) {
    for (const tool of tools) this.register(tool);
  }

  /** Adds a tool; throws DuplicateToolError when its name is taken. */
  register(tool: Tool): void {
    if (this.tools.has(tool.name)) throw new DuplicateToolError(tool.name);
    this.tools.set(tool.name, tool);
  }

  /** The tool of that name, if any. */
  get(name: string): Tool | undefined {
    return this.tools.get(name);
  }

  /** Every tool, in registration order. */
  list(): Tool[] {
    return [...this.tools.values()];
  }

  /** The tools an agent may be offered, in the order its allow-list names them. */
  forAgent(agent: AgentView): Tool[] {
    return agent.tools.allowed.flatMap((name) => this.tools.get(name) ?? []);
  }
}
