/** Ollama's keep_alive: a number of seconds or a Go duration string; negative means forever. */
import { OllamaApiError } from './errors.js';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses keep_alive into milliseconds; Infinity for "never unload", undefined when absent. */
export function parseKeepAlive(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new OllamaApiError(400, 'invalid keep_alive');
    return value < 0 ? Number.POSITIVE_INFINITY : value * 1000;
  }
  if (typeof value !== 'string') {
    // Duration.UnmarshalJSON names the Go type the value decoded into.
    const goType =
      typeof value === 'boolean'
        ? 'bool'
        : Array.isArray(value)
          ? '[]interface {}'
          : 'map[string]interface {}';
    throw new OllamaApiError(400, `Unsupported type: '${goType}'`);
  }
  return parseGoDuration(value);
}

/** Go's time.ParseDuration, enough for keep_alive values such as "5m", "1h30m", "-1m", "0". */
function parseGoDuration(text: string): number {
  const invalid = () => new OllamaApiError(400, `time: invalid duration ${JSON.stringify(text)}`);
  let rest = text.trim();
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw invalid();
  if (/^[\d.]+$/.test(rest))
    throw new OllamaApiError(400, `time: missing unit in duration ${JSON.stringify(text)}`);
  let total = 0;
  const part = /^([\d]*\.?[\d]*)(ns|us|µs|ms|s|m|h)/;
  while (rest.length > 0) {
    const match = part.exec(rest);
    if (!match || match[1] === '' || match[1] === '.') throw invalid();
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    rest = rest.slice(match[0].length);
  }
  return sign < 0 ? Number.POSITIVE_INFINITY : total;
}
