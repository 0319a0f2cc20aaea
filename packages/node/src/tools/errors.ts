/**
 * Why a tool call did not run or failed. The loop never lets one escape: each becomes a `tool`
 * message the model reads, so it can correct its arguments or tell the user.
 */
import { DomainError } from '../errors.js';

/** A tool call that was refused: not allowed for this agent, or an action while actions are off. */
export class ToolRefusedError extends DomainError {
  override name = 'ToolRefusedError';
  constructor(message: string) {
    super(message, { code: 'tool_refused' });
  }
}

/** The model called a tool with arguments its schema refuses. */
export class ToolArgumentsError extends DomainError {
  override name = 'ToolArgumentsError';
  constructor(message: string) {
    super(message, { code: 'tool_arguments_invalid' });
  }
}

/** The model called a tool that does not exist. */
export class UnknownToolError extends DomainError {
  override name = 'UnknownToolError';
  constructor(readonly tool: string) {
    super(`there is no tool named ${JSON.stringify(tool)}`, { code: 'tool_unknown' });
  }
}
