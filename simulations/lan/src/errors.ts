/** The harness cannot run here: it needs root (or CAP_NET_ADMIN) and iproute2. */
export class LanPrerequisiteError extends Error {
  override name = 'LanPrerequisiteError';
}

/** Another harness process holds the LAN (its pid is in the pidfile and alive). */
export class LanBusyError extends Error {
  override name = 'LanBusyError';
}

/** An `ip` or `tc` command failed; the message carries the command and its stderr. */
export class LanCommandError extends Error {
  override name = 'LanCommandError';
}

/** A process of the LAN (node or ollama-sim) did not come up or died. */
export class LanProcessError extends Error {
  override name = 'LanProcessError';
}

/** A bounded wait ran out of time. */
export class LanTimeoutError extends Error {
  override name = 'LanTimeoutError';
}

/** A scenario's assertion did not hold. */
export class ScenarioAssertionError extends Error {
  override name = 'ScenarioAssertionError';
}
