#!/usr/bin/env node
/** `ha-sim`: runs the simulator as a process, for demos and for agents under development. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_HA_PORT, DEFAULT_TOKEN, startHaSim } from './server.js';
import type { HaHome } from './types.js';

const USAGE = `Usage: ha-sim [options]

Simulates Home Assistant's REST API (/api) with a small home.

Options:
  --port N            port to listen on (default ${DEFAULT_HA_PORT}; 0 = any)
  --host ADDR         address to bind (default 127.0.0.1)
  --token T,U         accepted long-lived tokens (default ${DEFAULT_TOKEN})
  --home-file FILE    JSON home ({ location_name, areas, entities }) instead of the default one
  --version V         version reported by /api/config
  --slow-ms N         delay every answer by N ms
  --record-requests   keep a log of the requests received (GET /_sim/requests)
  --help              show this help
`;

function number(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new Error(`--${flag} needs a non-negative number, got "${value}"`);
  return parsed;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      'home-file': { type: 'string' },
      version: { type: 'string' },
      'slow-ms': { type: 'string' },
      'record-requests': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const home =
    values['home-file'] === undefined
      ? undefined
      : (JSON.parse(readFileSync(values['home-file'], 'utf8')) as HaHome);
  const slowMs = number(values['slow-ms'], 'slow-ms');
  const tokens = values.token
    ?.split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const sim = await startHaSim({
    port: number(values.port, 'port') ?? DEFAULT_HA_PORT,
    host: values.host ?? '127.0.0.1',
    ...(tokens !== undefined && tokens.length > 0 ? { tokens } : {}),
    ...(home !== undefined ? { home } : {}),
    ...(values.version !== undefined ? { version: values.version } : {}),
    ...(slowMs !== undefined ? { faults: { slowMs } } : {}),
    ...(values['record-requests'] === true ? { recordRequests: true } : {}),
  });
  process.stdout.write(`ha-sim listening on ${sim.url}\n`);
  const shutdown = () => {
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`ha-sim: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  process.exit(2);
});
