import { type Logger, pino } from 'pino';
import PinoPretty from 'pino-pretty';
import { ConfigError } from './config.js';

/** How log lines are written: JSON for machines (journald, Docker, a file), or readable lines. */
export type LogFormat = 'json' | 'pretty';

const FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/**
 * The format for this process: ALLERAC_LOG_FORMAT when set, else readable lines on a terminal
 * and JSON anywhere else, so a service's log stays machine-readable.
 */
export function resolveLogFormat(
  env: NodeJS.ProcessEnv = process.env,
  stdoutIsTty: boolean = process.stdout.isTTY === true,
): LogFormat {
  const chosen = env.ALLERAC_LOG_FORMAT?.trim().toLowerCase();
  if (chosen === undefined || chosen === '') return stdoutIsTty ? 'pretty' : 'json';
  if (!(FORMATS as readonly string[]).includes(chosen))
    throw new ConfigError(`ALLERAC_LOG_FORMAT must be json or pretty, not "${env.ALLERAC_LOG_FORMAT}"`);
  return chosen as LogFormat;
}

/** The node's structured logger on stdout, one child per component; `format` as resolveLogFormat decides. */
export function createLogger(level: string, name: string, format: LogFormat = resolveLogFormat()): Logger {
  const options = { level, base: { node: name }, timestamp: pino.stdTimeFunctions.isoTime };
  if (format === 'json') return pino(options);
  // In this thread and synchronous, as pino's own stdout is: no worker to outlive a shutdown,
  // and nothing buffered is lost when the process exits.
  const pretty = PinoPretty({
    sync: true,
    destination: 1,
    colorize: process.stdout.isTTY === true && PinoPretty.isColorSupported,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,node,component',
    messageFormat: '{if component}{component}: {end}{msg}',
  });
  return pino(options, pretty);
}
