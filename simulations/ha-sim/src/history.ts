/**
 * `GET /api/history/period/<timestamp>`, after homeassistant/components/history (HistoryPeriodView)
 * and recorder/history: one list of states per entity, in the order asked, entities without states
 * in the period left out.
 */
import { type StateMachine, validEntityId } from './state-machine.js';
import { haTimestamp, parseHaDatetime } from './time.js';
import type { JsonObject } from './types.js';

/** A bad history query; its message is HA's. */
export class HistoryQueryError extends Error {
  override name = 'HistoryQueryError';
}

const ONE_DAY_MS = 24 * 60 * 60 * 1000;

/** Domains whose attribute-only changes count as significant (recorder `SIGNIFICANT_DOMAINS`). */
const SIGNIFICANT_DOMAINS = new Set([
  'climate',
  'device_tracker',
  'humidifier',
  'thermostat',
  'water_heater',
]);

/** Domains whose every row keeps its attributes even in a minimal response (`NEED_ATTRIBUTE_DOMAINS`). */
const NEED_ATTRIBUTE_DOMAINS = new Set([
  'climate',
  'humidifier',
  'input_datetime',
  'thermostat',
  'water_heater',
]);

/** Answers a history query; `datetime` is the path segment after /period/, if any. */
export function queryHistory(
  states: StateMachine,
  datetime: string | undefined,
  query: URLSearchParams,
  now: number,
): JsonObject[][] {
  let start = now - ONE_DAY_MS;
  if (datetime !== undefined && datetime !== '') {
    const parsed = parseHaDatetime(datetime);
    if (parsed === undefined) throw new HistoryQueryError('Invalid datetime');
    start = parsed;
  }
  const filter = query.get('filter_entity_id')?.trim().toLowerCase() ?? '';
  if (filter === '') throw new HistoryQueryError('filter_entity_id is missing');
  const entityIds = filter.split(',');
  for (const id of entityIds) {
    if (states.get(id) === undefined && !validEntityId(id))
      throw new HistoryQueryError('Invalid filter_entity_id');
  }
  if (start > now) return [];
  let end = start + ONE_DAY_MS;
  const endText = query.get('end_time');
  if (endText) {
    const parsed = parseHaDatetime(endText);
    if (parsed === undefined) throw new HistoryQueryError('Invalid end_time');
    end = parsed;
  }
  const includeStart = !query.has('skip_initial_state');
  const significantOnly = query.get('significant_changes_only') !== '0';
  const minimal = query.has('minimal_response');
  const noAttributes = query.has('no_attributes');

  const result: JsonObject[][] = [];
  for (const entityId of [...new Set(entityIds)]) {
    const domain = entityId.split('.')[0]!;
    const rows: JsonObject[] = [];
    const records = states.historyOf(entityId).map((s) => ({ ...s, at: parseHaDatetime(s.last_updated)! }));
    const before = includeStart ? records.filter((r) => r.at <= start).at(-1) : undefined;
    const inPeriod = records.filter(
      (r) =>
        r.at > start &&
        r.at < end &&
        (!significantOnly || SIGNIFICANT_DOMAINS.has(domain) || r.last_changed === r.last_updated),
    );
    // The state at the start of the period is dated at the start, as the recorder does.
    const startStamp = haTimestamp(start);
    const full = [
      ...(before === undefined ? [] : [{ ...before, last_changed: startStamp, last_updated: startStamp }]),
      ...inPeriod,
    ];
    full.forEach((row, index) => {
      if (minimal && index > 0 && !NEED_ATTRIBUTE_DOMAINS.has(domain)) {
        rows.push({ state: row.state, last_changed: row.last_changed });
        return;
      }
      rows.push({
        entity_id: row.entity_id,
        state: row.state,
        attributes: noAttributes && !NEED_ATTRIBUTE_DOMAINS.has(domain) ? {} : row.attributes,
        last_changed: row.last_changed,
        last_updated: row.last_updated,
      });
    });
    if (rows.length > 0) result.push(rows);
  }
  return result;
}
