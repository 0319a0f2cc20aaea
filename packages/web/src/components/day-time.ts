/** "today 03:00", "yesterday 03:00", "tomorrow 03:00", else a date and time: for "Last backup: …". */
import { formatDateTime, intlLocale } from '../format.js';
import { language } from '../i18n.js';

const DAY_MS = 86_400_000;

/** Midnight (local) of the day `time` falls on. */
function startOfDay(time: number): number {
  const day = new Date(time);
  day.setHours(0, 0, 0, 0);
  return day.getTime();
}

/**
 * A moment as people say it: the nearby day in words (the language's own "yesterday") and the time
 * of day, or the date and time when it is further away.
 */
export function formatDayTime(value: string | number | Date, now: number = Date.now()): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return '—';
  const days = Math.round((startOfDay(date.getTime()) - startOfDay(now)) / DAY_MS);
  if (Math.abs(days) > 1) return formatDateTime(date);
  const day = new Intl.RelativeTimeFormat(intlLocale(language.value), { numeric: 'auto' }).format(
    days,
    'day',
  );
  return `${day} ${formatTime(date)}`;
}

/** A time of day as the language writes it: 03:00, 3:00 AM. */
export function formatTime(date: Date): string {
  return new Intl.DateTimeFormat(intlLocale(language.value), { timeStyle: 'short' }).format(date);
}
