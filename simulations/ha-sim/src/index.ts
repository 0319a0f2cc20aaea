/**
 * @allerac/ha-sim: a faithful Home Assistant REST API simulator (states, services, history,
 * templates) with a default home, request recording and faults, standing in for HA in tests.
 *
 * @example
 * ```ts
 * import { startHaSim } from '@allerac/ha-sim';
 *
 * const ha = await startHaSim({ recordRequests: true });
 * const headers = { Authorization: `Bearer ${ha.token}`, 'Content-Type': 'application/json' };
 * await fetch(`${ha.url}/api/services/light/turn_on`, {
 *   method: 'POST',
 *   headers,
 *   body: JSON.stringify({ entity_id: 'light.kitchen_ceiling', brightness: 128 }),
 * }); // answers the changed states
 * ha.state('light.kitchen_ceiling')?.state; // 'on'
 * await ha.close();
 * ```
 */
export { HistoryQueryError } from './history.js';
export { DEFAULT_HOME } from './home.js';
export {
  DEFAULT_HA_PORT,
  DEFAULT_HA_VERSION,
  DEFAULT_TOKEN,
  MAX_RECORDED_REQUESTS,
  startHaSim,
} from './server.js';
export { ServiceDataError, ServiceNotFoundError } from './services.js';
export { InvalidEntityFormatError, InvalidStateError } from './state-machine.js';
export { TemplateError } from './template.js';
export type {
  HaArea,
  HaContext,
  HaEntity,
  HaFaultPlan,
  HaHome,
  HaRecordedRequest,
  HaSim,
  HaSimOptions,
  HaState,
  JsonObject,
  JsonValue,
} from './types.js';
