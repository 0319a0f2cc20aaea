import { type Logger, pino } from 'pino';

/** The node's structured logger: JSON lines on stdout, one child per component. */
export function createLogger(level: string, name: string): Logger {
  return pino({ level, base: { node: name }, timestamp: pino.stdTimeFunctions.isoTime });
}
