/**
 * A tool the node runs for an agent: its name, what it is for, its arguments' schema (sent to the
 * model as Ollama's `tools` JSON schema and checked before it runs), and whether it changes the
 * world, which only agents with `allowActions` may do.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { AgentView } from '../contract/agents.js';

/** What a running tool knows of its call. */
export interface ToolContext {
  /** The agent the loop runs for (its allow-lists). */
  agent: AgentView;
  /** Aborted when the client leaves or the loop's time runs out. */
  signal: AbortSignal;
}

/** A server-side tool. */
export interface Tool<S extends TSchema = TSchema> {
  /** The name the model calls, e.g. `ha.get_state`. */
  name: string;
  /** What it does and when to use it, for the model. */
  description: string;
  /** Its arguments: an object schema. */
  parameters: S;
  /** Whether it changes the world (turns a device on); refused unless the agent allows actions. */
  action: boolean;
  /** Runs it; the result goes to the model as JSON. Throws a domain error to tell the model why not. */
  run(args: Static<S>, context: ToolContext): Promise<unknown>;
}

/** Declares a tool with its argument type checked against its schema. */
export function defineTool<S extends TSchema>(tool: Tool<S>): Tool {
  return tool as unknown as Tool;
}
