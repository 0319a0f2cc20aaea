/**
 * The home-LAN simulation: real `allerac` nodes and ollama-sim backends on hosts made of network
 * namespaces, a bridge as the switch, tc for bad links, and scenarios with figures.
 *
 * @example
 * ```ts
 * const lan = await startLan(DEFAULT_HOME);
 * try {
 *   await lan.waitForMesh({ timeoutMs: 60_000 });
 *   lan.cutOff('bedroom');
 * } finally {
 *   await lan.stop();
 * }
 * ```
 */
export type { ChatResult, PeerInfo, RouteCandidate } from './client.js';
export { NodeClient, NodeHttpError } from './client.js';
export { BRIDGE, BRIDGE_ADDRESS, HTTP_PORT, OLLAMA_PORT, P2P_PORT, PREFIX, RUN_DIR } from './constants.js';
export {
  LanBusyError,
  LanCommandError,
  LanPrerequisiteError,
  LanProcessError,
  LanTimeoutError,
  ScenarioAssertionError,
} from './errors.js';
export type { HostSpec, SimProfile } from './home.js';
export { DEFAULT_HOME, EMBEDDING_MODEL, homeOfSize } from './home.js';
export type { LanHost, LanOptions, SweepResult } from './lan.js';
export { Lan, startLan, sweepLeftovers } from './lan.js';
export type { HostLink, LinkConditions } from './network.js';
export { findLeftovers, hostAddress, netemUnavailableReason } from './network.js';
export type { RunOptions } from './runner.js';
export { formatReport, runScenarios } from './runner.js';
export type { Figure, Scenario, ScenarioContext, ScenarioOptions, ScenarioResult } from './scenario.js';
export { check } from './scenario.js';
export { findScenario, SCENARIOS } from './scenarios/index.js';
export { lanUnavailableReason } from './shell.js';
