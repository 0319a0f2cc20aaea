import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { normalizeAgentName } from './agent-name.js';
import { normalizeOllamaUrl } from './backend/ollama-backend.js';
import { DEFAULT_QUEUE_LIMIT, DEFAULT_SLOTS } from './inference/local-load.js';

/** Everything `allerac start` is configured with. */
export interface NodeConfig {
  /** The agent's name, shown to peers and in the UI. */
  name: string;
  /** Whether `name` came from --name or ALLERAC_NAME (it then wins over the name chosen in the setup wizard). */
  nameExplicit: boolean;
  httpPort: number;
  httpHost: string;
  /** Whether `httpHost` came from --http-host or ALLERAC_HTTP_HOST (it then wins over Settings' `http.serveLan`). */
  httpHostExplicit: boolean;
  /** libp2p TCP port; 0 picks any free port. */
  p2pPort: number;
  dataDir: string;
  ollamaUrl: string;
  /** Whether `ollamaUrl` came from a flag or environment (it then wins over Settings' `backend.ollamaUrl` at start). */
  ollamaUrlExplicit: boolean;
  /** PostgreSQL URL; undefined means embedded PGlite in `<dataDir>/db`. */
  databaseUrl: string | undefined;
  meshKeyFile: string;
  /** A join code to adopt another home's mesh key at start. */
  join: string | undefined;
  logLevel: string;
  /** Address the mesh listens on (env ALLERAC_P2P_HOST; all interfaces by default, so the LAN can reach it). */
  p2pHost: string;
  /** Whether to announce and discover peers with mDNS (env ALLERAC_MDNS=off turns it off). */
  mdns: boolean;
  /** Peers to dial at start, as multiaddrs with /p2p/<id> (env ALLERAC_BOOTSTRAP, comma-separated). */
  bootstrap: string[];
  /** What this agent is for (env ALLERAC_SPECIALIZATIONS, comma-separated); the setup wizard can set them too. */
  specializations: string[];
  /** Web origins allowed to call the Ollama and OpenAI APIs besides Ollama's defaults (env ALLERAC_ORIGINS, comma-separated, `*` wildcards). */
  origins: string[];
  /** Host names this node answers to besides its own and home-network names (env ALLERAC_HOSTS, comma-separated). */
  hosts: string[];
  /**
   * Directories the node may write backups into besides `<dataDir>/backups` (--backup-dirs, env
   * ALLERAC_BACKUP_DIRS, comma-separated absolute paths): the API and the schedule are confined to these.
   */
  backupDirs: string[];
  /**
   * The local Ollama's models directory, shared with peers (--ollama-models-dir, env
   * ALLERAC_OLLAMA_MODELS_DIR); undefined means Ollama's own default (models/models-dir.ts).
   */
  ollamaModelsDir: string | undefined;
  /**
   * Generations this node's Ollama runs at once (env ALLERAC_NUM_PARALLEL; set it to Ollama's
   * OLLAMA_NUM_PARALLEL). The node holds one slot per generation and queues the rest.
   */
  numParallel: number;
  /**
   * Requests that may wait for a slot before the node answers busy (env ALLERAC_MAX_QUEUE);
   * 512 by default, as Ollama's OLLAMA_MAX_QUEUE (envconfig/config.go).
   */
  maxQueue: number;
}

/** Thrown for a flag or environment value that cannot be used; the message names it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Raw option values as commander parsed them (flags already merged with ALLERAC_* twins). */
export interface RawStartOptions {
  name?: string;
  httpPort?: string;
  httpHost?: string;
  p2pPort?: string;
  dataDir?: string;
  ollamaUrl?: string;
  databaseUrl?: string;
  meshKeyFile?: string;
  join?: string;
  logLevel?: string;
  p2pHost?: string;
  mdns?: string;
  bootstrap?: string;
  specializations?: string;
  backupDirs?: string;
  ollamaModelsDir?: string;
}

/** Defaults of the interface contract. */
export const DEFAULTS = {
  httpPort: 8080,
  httpHost: '127.0.0.1',
  p2pPort: 4001,
  dataDir: './data',
  ollamaUrl: 'http://127.0.0.1:11434',
  logLevel: 'info',
  p2pHost: '0.0.0.0',
} as const;

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

function port(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new ConfigError(`${flag} must be a port number between 0 and 65535, got "${value}"`);
  }
  return n;
}

/** Turns raw options into a validated config; `env` supplies the twins commander does not cover. */
export function resolveStartConfig(raw: RawStartOptions, env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const dataDir = resolve(raw.dataDir ?? DEFAULTS.dataDir);
  const ollamaRaw = raw.ollamaUrl ?? env.OLLAMA_HOST ?? DEFAULTS.ollamaUrl;
  let ollamaUrl: string;
  try {
    ollamaUrl = normalizeOllamaUrl(ollamaRaw);
  } catch {
    throw new ConfigError(`--ollama-url must be a URL like http://127.0.0.1:11434, got "${ollamaRaw}"`);
  }
  const databaseUrl = raw.databaseUrl ?? env.DATABASE_URL;
  if (databaseUrl !== undefined && databaseUrl !== '' && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('--database-url must start with postgres:// or postgresql://');
  }
  let name: string;
  try {
    name = normalizeAgentName(raw.name ?? hostname(), '--name');
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  return {
    name,
    nameExplicit: raw.name !== undefined,
    httpPort: port(raw.httpPort, DEFAULTS.httpPort, '--http-port'),
    httpHost: raw.httpHost ?? DEFAULTS.httpHost,
    httpHostExplicit: raw.httpHost !== undefined,
    p2pPort: port(raw.p2pPort, DEFAULTS.p2pPort, '--p2p-port'),
    dataDir,
    ollamaUrl,
    ollamaUrlExplicit: raw.ollamaUrl !== undefined || env.OLLAMA_HOST !== undefined,
    databaseUrl: databaseUrl === '' ? undefined : databaseUrl,
    meshKeyFile: resolve(raw.meshKeyFile ?? join(dataDir, 'mesh.key')),
    join: raw.join === '' ? undefined : raw.join,
    logLevel: raw.logLevel ?? DEFAULTS.logLevel,
    p2pHost: raw.p2pHost ?? env.ALLERAC_P2P_HOST ?? DEFAULTS.p2pHost,
    mdns: !/^(off|false|0|no)$/i.test(raw.mdns ?? env.ALLERAC_MDNS ?? 'on'),
    bootstrap: list(raw.bootstrap ?? env.ALLERAC_BOOTSTRAP),
    specializations: list(raw.specializations ?? env.ALLERAC_SPECIALIZATIONS),
    origins: list(env.ALLERAC_ORIGINS),
    hosts: list(env.ALLERAC_HOSTS),
    backupDirs: backupDirs(raw.backupDirs ?? env.ALLERAC_BACKUP_DIRS),
    ollamaModelsDir:
      raw.ollamaModelsDir !== undefined && raw.ollamaModelsDir !== ''
        ? resolve(raw.ollamaModelsDir)
        : undefined,
    numParallel: count(env.ALLERAC_NUM_PARALLEL, DEFAULT_SLOTS, 'ALLERAC_NUM_PARALLEL', 1),
    maxQueue: count(env.ALLERAC_MAX_QUEUE, DEFAULT_QUEUE_LIMIT, 'ALLERAC_MAX_QUEUE', 0),
  };
}

/** A whole number of at least `min` from the environment, or `fallback` when unset. */
function count(value: string | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > 65_536)
    throw new ConfigError(`${name} must be a whole number from ${min} to 65536, got "${value}"`);
  return n;
}

function backupDirs(value: string | undefined): string[] {
  const dirs = list(value);
  const relative = dirs.find((dir) => !isAbsolute(dir));
  if (relative !== undefined)
    throw new ConfigError(`--backup-dirs takes absolute paths (e.g. /media/usb/allerac), got "${relative}"`);
  return dirs.map((dir) => resolve(dir));
}
