#!/usr/bin/env node
/** `ollama-sim`: runs the simulator as a process, for demos, the LAN harness and failover tests. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PROFILES, resolveProfile } from './profiles.js';
import { createOllamaSim } from './server.js';
import type { FaultPlan, HardwareProfile, SimModel } from './types.js';

const USAGE = `Usage: ollama-sim [options]

Simulates an Ollama server (the /api HTTP API) with a hardware profile.

Options:
  --port N                  port to listen on (default 11434; 0 = any)
  --host ADDR               address to bind (default 127.0.0.1)
  --profile NAME            ${Object.keys(PROFILES).join(' | ')} (default gpu)
  --profile-file FILE       JSON profile fields, merged over --profile
  --models A,B              installed models from the catalog (default llama3.2:3b,all-minilm:latest)
  --models-file FILE        JSON array of models (catalog names or full SimModel objects), added to --models
  --preload A,B             models loaded at start
  --version V               version reported by /api/version (default 0.12.0)
  --exit-after-tokens N     exit the process after sending N tokens of a generation
  --stall-after-tokens N    stop sending after N tokens but keep the connection open
  --error-rate R            fail this fraction (0..1) of inference requests
  --error-status S          HTTP status of injected errors (default 500)
  --fail-next-requests N    fail the next N inference requests
  --record-requests         keep a log of the API requests received (GET /_sim/requests)
  --store-dir DIR           keep models on disk in Ollama's layout and pull other hosts' registries
  --model-bytes N           with --store-dir: bytes of each model's weights blob (default 65536)
  --serve-registry          with --store-dir: answer GET /v2/... as a registry of the store
  --help                    show this help
`;

function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function number(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new Error(`--${flag} needs a number, got "${value}"`);
  return parsed;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      profile: { type: 'string' },
      'profile-file': { type: 'string' },
      models: { type: 'string' },
      'models-file': { type: 'string' },
      preload: { type: 'string' },
      version: { type: 'string' },
      'exit-after-tokens': { type: 'string' },
      'stall-after-tokens': { type: 'string' },
      'error-rate': { type: 'string' },
      'error-status': { type: 'string' },
      'fail-next-requests': { type: 'string' },
      'record-requests': { type: 'boolean' },
      'store-dir': { type: 'string' },
      'model-bytes': { type: 'string' },
      'serve-registry': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }

  let profile: HardwareProfile = resolveProfile(values.profile ?? 'gpu');
  if (values['profile-file'] !== undefined) {
    profile = { ...profile, ...(readJson(values['profile-file']) as Partial<HardwareProfile>) };
  }
  const fileModels = values['models-file'] !== undefined ? readJson(values['models-file']) : undefined;
  if (fileModels !== undefined && !Array.isArray(fileModels))
    throw new Error('--models-file must hold a JSON array');
  const named = list(values.models) ?? (fileModels === undefined ? undefined : []);
  const models =
    named === undefined ? undefined : [...named, ...((fileModels ?? []) as Array<string | SimModel>)];

  const faults: FaultPlan = {};
  const exitAfter = number(values['exit-after-tokens'], 'exit-after-tokens');
  const stallAfter = number(values['stall-after-tokens'], 'stall-after-tokens');
  const errorRate = number(values['error-rate'], 'error-rate');
  const errorStatus = number(values['error-status'], 'error-status');
  const failNext = number(values['fail-next-requests'], 'fail-next-requests');
  if (exitAfter !== undefined) faults.exitAfterTokens = exitAfter;
  if (stallAfter !== undefined) faults.stallAfterTokens = stallAfter;
  if (errorRate !== undefined) faults.errorRate = errorRate;
  if (errorStatus !== undefined) faults.errorStatus = errorStatus;
  if (failNext !== undefined) faults.failNextRequests = failNext;

  const host = values.host ?? '127.0.0.1';
  const sim = await createOllamaSim(
    {
      host,
      port: number(values.port, 'port') ?? 11434,
      profile,
      ...(models !== undefined ? { models } : {}),
      ...(values.preload !== undefined ? { preload: list(values.preload) ?? [] } : {}),
      ...(values.version !== undefined ? { version: values.version } : {}),
      ...(values['record-requests'] === true ? { recordRequests: true } : {}),
      ...(values['store-dir'] !== undefined ? { storeDir: values['store-dir'] } : {}),
      ...(values['model-bytes'] !== undefined
        ? { modelBytes: number(values['model-bytes'], 'model-bytes') ?? 0 }
        : {}),
      ...(values['serve-registry'] === true ? { serveRegistry: true } : {}),
      faults,
    },
    // The fault stands for a crashed server: exit at once, no cleanup, like a killed process.
    { onCrash: () => process.exit(1) },
  );
  process.stdout.write(`ollama-sim listening on ${sim.url}\n`);

  const shutdown = () => {
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`ollama-sim: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
