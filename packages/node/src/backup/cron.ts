/**
 * A small five-field cron matcher (minute hour day-of-month month day-of-week) in local time,
 * with `*`, lists, ranges, steps and the @hourly/@daily/@weekly/@monthly shorthands. Like Vixie
 * cron, when both day fields are restricted a day matching either one matches. Written here to
 * avoid a dependency for ~100 lines.
 */

/** An expression that is not valid cron; the message names the field. */
export class CronSyntaxError extends Error {
  override name = 'CronSyntaxError';
}

/** A parsed expression: the allowed values of each field. */
export interface CronSchedule {
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly daysOfWeek: ReadonlySet<number>;
  readonly dayOfMonthAny: boolean;
  readonly dayOfWeekAny: boolean;
}

const SHORTHANDS: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
};

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

function parseField(text: string, field: (typeof FIELDS)[number]): Set<number> {
  const values = new Set<number>();
  const number = (s: string) => {
    if (!/^\d+$/.test(s)) throw new CronSyntaxError(`bad ${field.name} "${text}"`);
    const n = Number(s);
    if (n < field.min || n > field.max) {
      throw new CronSyntaxError(`${field.name} ${n} is outside ${field.min}-${field.max}`);
    }
    return n;
  };
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : number(stepText);
    if (step < 1) throw new CronSyntaxError(`${field.name} step must be at least 1`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = field.min;
      to = field.max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      from = number(a);
      to = number(b);
      if (from > to) throw new CronSyntaxError(`${field.name} range ${range} runs backwards`);
    } else {
      from = number(range);
      to = stepText === undefined ? from : field.max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

/** Parses a cron expression; throws CronSyntaxError with the offending field. */
export function parseCron(expression: string): CronSchedule {
  const source = expression.trim();
  const expanded = SHORTHANDS[source] ?? source;
  const parts = expanded.split(/\s+/);
  if (parts.length !== 5) {
    throw new CronSyntaxError(
      `"${expression}" must have 5 fields: minute hour day-of-month month day-of-week`,
    );
  }
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = parts.map((part, i) =>
    parseField(part, FIELDS[i] as (typeof FIELDS)[number]),
  ) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  // 7 is Sunday too.
  if (daysOfWeek.has(7)) daysOfWeek.add(0);
  return {
    source,
    minutes,
    hours,
    daysOfMonth,
    months,
    daysOfWeek,
    dayOfMonthAny: parts[2] === '*',
    dayOfWeekAny: parts[4] === '*',
  };
}

function dayMatches(schedule: CronSchedule, date: Date): boolean {
  const dom = schedule.daysOfMonth.has(date.getDate());
  const dow = schedule.daysOfWeek.has(date.getDay());
  if (schedule.dayOfMonthAny) return dow;
  if (schedule.dayOfWeekAny) return dom;
  return dom || dow;
}

/** True when the minute containing `date` is one the schedule fires in. */
export function cronMatches(schedule: CronSchedule, date: Date): boolean {
  return (
    schedule.minutes.has(date.getMinutes()) &&
    schedule.hours.has(date.getHours()) &&
    schedule.months.has(date.getMonth() + 1) &&
    dayMatches(schedule, date)
  );
}

/** The first firing minute strictly after `after`, or undefined if none within ~5 years (e.g. 31 Feb). */
export function nextCronRun(schedule: CronSchedule, after: Date): Date | undefined {
  const at = new Date(after.getTime());
  at.setSeconds(0, 0);
  at.setMinutes(at.getMinutes() + 1);
  // Skipping whole months, days and hours keeps this to a few thousand steps.
  for (let steps = 0; steps < 200_000; steps += 1) {
    if (!schedule.months.has(at.getMonth() + 1)) {
      at.setMonth(at.getMonth() + 1, 1);
      at.setHours(0, 0, 0, 0);
    } else if (!dayMatches(schedule, at)) {
      at.setDate(at.getDate() + 1);
      at.setHours(0, 0, 0, 0);
    } else if (!schedule.hours.has(at.getHours())) {
      at.setHours(at.getHours() + 1, 0, 0, 0);
    } else if (!schedule.minutes.has(at.getMinutes())) {
      at.setMinutes(at.getMinutes() + 1, 0, 0);
    } else {
      return at;
    }
  }
  return undefined;
}
