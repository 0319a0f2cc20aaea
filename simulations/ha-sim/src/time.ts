/** Time as Home Assistant writes and reads it. */

/** `2026-12-01T13:20:00.123000+00:00`: HA's isoformat, microseconds and an explicit UTC offset. */
export function haTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

/**
 * Milliseconds since the epoch, or undefined. Accepts what `dt_util.parse_datetime` accepts in
 * practice: an ISO 8601 date-time, with or without offset (none means UTC, as HA's default zone
 * in the simulator), with `T` or a space.
 */
export function parseHaDatetime(text: string): number | undefined {
  const match =
    /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s = '00', frac = '', zone = 'Z'] = match;
  const offset = zone === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  const ms = frac === '' ? '' : `.${frac.slice(1, 4).padEnd(3, '0')}`;
  const parsed = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${ms}${offset}`);
  return Number.isNaN(parsed) ? undefined : parsed;
}
