/**
 * Dates, times, numbers and sizes written the way the chosen UI language writes them (not the
 * browser's locale: a Brazilian on an English laptop who picks pt-BR reads 01/12/2026).
 */
import { type Language, language } from './i18n.js';

type Cache<T> = Map<string, T>;
const dateFormats: Cache<Intl.DateTimeFormat> = new Map();
const numberFormats: Cache<Intl.NumberFormat> = new Map();
const relativeFormats: Cache<Intl.RelativeTimeFormat> = new Map();

/** The Intl locale of each language when the browser names none that fits it. */
const DEFAULT_LOCALES: Record<Language, string> = { en: 'en-US', pt: 'pt-PT', 'pt-BR': 'pt-BR', es: 'es-ES' };

/**
 * The locale to format in for `lang`: the browser's own preference when it is a variant of that
 * language (en-GB keeps its 24-hour clock, es-MX its own habits), else the language's default.
 * Plain `pt` in Intl means Brazil, so European Portuguese needs a region that is not BR.
 */
export function intlLocale(
  lang: Language,
  preferred: readonly string[] = globalThis.navigator?.languages ?? [],
): string {
  for (const locale of preferred) {
    const [base = '', region = ''] = locale.split('-');
    const brazil = region.toUpperCase() === 'BR';
    if (base.toLowerCase() !== lang.slice(0, 2)) continue;
    if (lang === 'pt-BR' ? brazil : lang === 'pt' ? region !== '' && !brazil : true) return locale;
  }
  return DEFAULT_LOCALES[lang];
}

/** One formatter per language and options: building an Intl formatter costs far more than using it. */
function cached<T, O>(cache: Cache<T>, lang: Language, options: O, make: () => T): T {
  const key = `${lang} ${JSON.stringify(options)}`;
  let found = cache.get(key);
  if (found === undefined) {
    found = make();
    cache.set(key, found);
  }
  return found;
}

function dateTimeFormat(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const lang = language.value;
  return cached(dateFormats, lang, options, () => new Intl.DateTimeFormat(intlLocale(lang), options));
}

function numberFormat(options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const lang = language.value;
  return cached(numberFormats, lang, options, () => new Intl.NumberFormat(intlLocale(lang), options));
}

/** A Date from an ISO string, a Date or epoch milliseconds; undefined when it is not a real date. */
function toDate(value: string | number | Date): Date | undefined {
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** A calendar day, short: 12/1/2026 in en, 01/12/2026 in pt-BR. */
export function formatDate(value: string | number | Date): string {
  const date = toDate(value);
  return date === undefined ? '—' : dateTimeFormat({ dateStyle: 'short' }).format(date);
}

/** A day and a time of day, short. */
export function formatDateTime(value: string | number | Date): string {
  const date = toDate(value);
  return date === undefined ? '—' : dateTimeFormat({ dateStyle: 'short', timeStyle: 'short' }).format(date);
}

/** A number with the language's separators (1,234.5 in en, 1.234,5 in pt). */
export function formatNumber(value: number, options: Intl.NumberFormatOptions = {}): string {
  return Number.isFinite(value) ? numberFormat(options).format(value) : '—';
}

/** A share given in percent (42.5 for 42.5 %), with the language's sign and spacing. */
export function formatPercent(percent: number, maximumFractionDigits = 1): string {
  return Number.isFinite(percent)
    ? numberFormat({ style: 'percent', maximumFractionDigits }).format(percent / 100)
    : '—';
}

const BYTE_UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;

/** A byte count in binary steps (1024) with the language's unit names: 1.5 GB, 1,5 GB. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const maximumFractionDigits = value >= 10 || unit === 0 ? 0 : 1;
  // CLDR spells the plain unit out ("5 bytes"); the symbol keeps a column of sizes even.
  if (unit === 0) return `${numberFormat({ maximumFractionDigits }).format(value)} B`;
  return numberFormat({
    style: 'unit',
    unit: BYTE_UNITS[unit],
    unitDisplay: 'short',
    maximumFractionDigits,
  }).format(value);
}

/** A length of time, its two largest units: "3d 4h" in en, "3 d 4 h" in pt. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const parts: Array<[number, 'day' | 'hour' | 'minute']> = [
    [Math.floor(seconds / 86400), 'day'],
    [Math.floor((seconds % 86400) / 3600), 'hour'],
    [Math.floor((seconds % 3600) / 60), 'minute'],
  ];
  const first = parts.findIndex(([amount]) => amount > 0);
  const shown = first === -1 ? parts.slice(2) : parts.slice(first, Math.min(first + 2, parts.length));
  return shown
    .map(([amount, unit]) => numberFormat({ style: 'unit', unit, unitDisplay: 'narrow' }).format(amount))
    .join(' ');
}

const RELATIVE_STEPS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
  ['week', 4.35],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

/** How long ago (or until) a moment is, against `now`: "5 minutes ago", "há 5 minutos". */
export function formatRelative(value: string | number | Date, now: number = Date.now()): string {
  const date = toDate(value);
  if (date === undefined) return '—';
  const lang = language.value;
  const format = cached(
    relativeFormats,
    lang,
    'auto',
    () => new Intl.RelativeTimeFormat(intlLocale(lang), { numeric: 'auto', style: 'long' }),
  );
  let amount = (date.getTime() - now) / 1000;
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(amount) < size) return format.format(Math.round(amount), unit);
    amount /= size;
  }
  return formatDate(date);
}
