/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week) in local time, read by
 * croner: `*`, lists, ranges, steps, names (`mon`, `jan`), the @hourly/@daily/@weekly/@monthly/
 * @yearly shorthands, and croner's `L`, `W` and `#`. Like Vixie cron, when both day fields are
 * restricted a day matching either one matches, a daily time the clock skips runs right after the
 * daylight-saving gap, and a time that happens twice runs once.
 */
import { Cron } from 'croner';

/** An expression that is not valid cron; the message names the field. */
export class CronSyntaxError extends Error {
  override name = 'CronSyntaxError';
}

/** A parsed expression. */
export interface CronSchedule {
  /** The expression as given, trimmed. */
  readonly source: string;
  /** croner's reading of it; built without a function, so it never runs anything by itself. */
  readonly pattern: Cron;
}

const FIELD_NAMES = 'minute hour day-of-month month day-of-week';

/** Parses a cron expression; throws CronSyntaxError with the offending field. */
export function parseCron(expression: string): CronSchedule {
  const source = expression.trim();
  // croner would read six fields as seconds-first: refuse rather than shift every field.
  if (!source.startsWith('@') && source.split(/\s+/).length !== 5) {
    throw new CronSyntaxError(`"${expression}" must have 5 fields: ${FIELD_NAMES}`);
  }
  // croner replaces "?" by the field's value at parse time, so a stored schedule would change
  // meaning at every restart.
  if (source.includes('?')) {
    throw new CronSyntaxError(`"${expression}": "?" is not supported; use "*" for any value`);
  }
  try {
    return { source, pattern: new Cron(source, { mode: '5-part', paused: true }) };
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(/^CronPattern:\s*/, '');
    throw new CronSyntaxError(`"${expression}" is not a valid cron expression: ${reason}`, { cause: error });
  }
}

/** True when the minute containing `date` is one the schedule fires in. */
export function cronMatches(schedule: CronSchedule, date: Date): boolean {
  const minute = new Date(date.getTime());
  minute.setSeconds(0, 0);
  return schedule.pattern.match(minute);
}

/** The first firing minute strictly after `after`, or undefined if it never fires (e.g. 31 Feb). */
export function nextCronRun(schedule: CronSchedule, after: Date): Date | undefined {
  return schedule.pattern.nextRun(after) ?? undefined;
}
