/**
 * Agent names: what a person may call a node. Any printable Unicode ("Sala de Estar 🛋️ 客厅",
 * "Гостиная"), NFC-normalised so the same name typed on two keyboards compares equal, 1 to
 * MAX_AGENT_NAME_CHARS code points after trimming. Control characters would corrupt logs and
 * tables, and bidi controls can make a name read as another (Trojan Source), so both are refused.
 */
import { InvalidInputError } from './errors.js';

/** The longest name, in code points; a card allows 256 UTF-16 units, so any such name fits. */
export const MAX_AGENT_NAME_CHARS = 64;

/** A name that cannot be an agent's: the message says why. */
export class InvalidAgentNameError extends InvalidInputError {
  override name = 'InvalidAgentNameError';
  constructor(reason: string, param = 'agentName') {
    super(`${param} ${reason}`, { code: 'invalid_agent_name', param });
  }
}

/** C0/C1 controls, line and paragraph separators, and lone surrogates. */
const CONTROL = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]/u;
/** Bidi embeddings, overrides, isolates and marks (Unicode UAX #9, "explicit formatting"). */
const BIDI = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

/**
 * The name as it is kept and published: trimmed and NFC-normalised. Throws InvalidAgentNameError
 * (a 400 at the HTTP edge); `param` names the field in the message.
 */
export function normalizeAgentName(raw: string, param = 'agentName'): string {
  if (CONTROL.test(raw)) throw new InvalidAgentNameError('must not hold control characters', param);
  if (BIDI.test(raw)) throw new InvalidAgentNameError('must not hold bidirectional-text controls', param);
  const name = raw.normalize('NFC').trim();
  const length = [...name].length;
  if (length === 0) throw new InvalidAgentNameError('must be a name, not only spaces', param);
  if (length > MAX_AGENT_NAME_CHARS) {
    throw new InvalidAgentNameError(`must be at most ${MAX_AGENT_NAME_CHARS} characters`, param);
  }
  return name;
}
