import { ConflictError, InvalidInputError, NotFoundError } from '../errors.js';

/** No agent has that slug. */
export class AgentNotFoundError extends NotFoundError {
  override name = 'AgentNotFoundError';
  constructor(readonly slug: string) {
    super(`no agent with slug "${slug.slice(0, 64)}"`, { code: 'agent_not_found' });
  }
}

/** An agent with that slug exists already. */
export class AgentExistsError extends ConflictError {
  override name = 'AgentExistsError';
  constructor(readonly slug: string) {
    super(`an agent with slug "${slug}" exists already; choose another slug or edit it`, {
      code: 'agent_exists',
    });
  }
}

/** An agent's fields, together, are not an agent (a prompt over the byte limit, say). */
export class InvalidAgentError extends InvalidInputError {
  override name = 'InvalidAgentError';
}
