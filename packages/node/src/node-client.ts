/**
 * The CLI's one client of a running node's API. It authenticates with a token it is given, or
 * with an admin token of the node's data dir: cached in `<dataDir>/.cli-token` (0600) so repeated
 * commands do not pile up tokens, expiring after a month, and re-issued once when the node stops
 * accepting it (expired or revoked).
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueAdminToken } from './auth/api-tokens.js';

const CLI_TOKEN_FILE = '.cli-token';

/** The cached token lives a month: a copied `.cli-token` stops working, and a fresh one is issued on a 401. */
const CLI_TOKEN_LIFETIME_MS = 30 * 24 * 3600_000;

/** Long enough for the slowest command the CLI sends (a backup of a large database). */
export const DEFAULT_NODE_CLIENT_TIMEOUT_MS = 600_000;

/** The node answered with an error; the message is the node's. */
export class NodeRequestError extends Error {
  override name = 'NodeRequestError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The node could not be reached at all. */
export class NodeUnreachableError extends Error {
  override name = 'NodeUnreachableError';
}

/** Neither a token nor a data dir to issue one from was given. */
export class NodeTokenMissingError extends Error {
  override name = 'NodeTokenMissingError';
  constructor() {
    super('no token: pass --token, set ALLERAC_TOKEN, or pass --data-dir of the node');
  }
}

/** Where the node is and how to authenticate. */
export interface NodeClientInit {
  /** Node base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  /** A bearer token; wins over `dataDir`. */
  token?: string | undefined;
  /** The node's data dir, whose admin token file the client may issue a token from. */
  dataDir?: string | undefined;
  /** Per-request timeout; DEFAULT_NODE_CLIENT_TIMEOUT_MS by default. */
  timeoutMs?: number | undefined;
}

/** Injected dependencies of the client. */
export interface NodeClientComponents {
  /** The fetch to use (tests, proxies); the global one by default. */
  fetch?: typeof fetch;
}

/** A client of one node's HTTP API. */
export interface NodeClient {
  /** The node's base URL. */
  readonly url: string;
  /** Sends one JSON request (`path` from the root, e.g. `/allerac/v1/peers`) and returns the JSON answer. */
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
}

/** Creates a client; throws NodeTokenMissingError when it has no way to authenticate. */
export function createNodeClient(init: NodeClientInit, components: NodeClientComponents = {}): NodeClient {
  const { token, dataDir } = init;
  if (token === undefined && dataDir === undefined) throw new NodeTokenMissingError();
  const fetchFn = components.fetch ?? fetch;
  const url = init.url.replace(/\/+$/, '');
  const timeoutMs = init.timeoutMs ?? DEFAULT_NODE_CLIENT_TIMEOUT_MS;
  // A given token cannot be renewed; a data dir's cached one can, once.
  const tokenFor = (renew: boolean) => token ?? cachedToken(dataDir as string, renew);
  const attempts = token === undefined ? [false, true] : [false];

  return {
    url,
    async call<T>(method: string, path: string, body?: unknown): Promise<T> {
      let last: NodeRequestError | undefined;
      for (const renew of attempts) {
        let response: Response;
        try {
          response = await fetchFn(`${url}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${tokenFor(renew)}`,
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(timeoutMs),
          });
        } catch (error) {
          throw new NodeUnreachableError(
            `cannot reach the node at ${url}: ${(error as Error).message}; is it running?`,
            { cause: error },
          );
        }
        const parsed = parseBody(await response.text());
        if (response.ok) return parsed as T;
        last = new NodeRequestError(response.status, errorMessage(parsed, response.status));
        if (response.status !== 401) break;
      }
      throw last as NodeRequestError;
    },
  };
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The message of the node's error, in Ollama's (`{error: "..."}`) or OpenAI's shape. */
function errorMessage(parsed: unknown, status: number): string {
  const error = (parsed as { error?: { message?: string } | string } | undefined)?.error;
  return typeof error === 'string' ? error : (error?.message ?? `HTTP ${status}`);
}

function cachedToken(dataDir: string, renew: boolean): string {
  const file = join(dataDir, CLI_TOKEN_FILE);
  if (!renew) {
    try {
      const token = readFileSync(file, 'utf8').trim();
      if (token !== '') return token;
    } catch {
      // none yet
    }
  }
  const token = issueAdminToken(dataDir, 'cli', { expiresAt: new Date(Date.now() + CLI_TOKEN_LIFETIME_MS) });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/** Sends one JSON request to the node that holds `dataDir` (found by its runtime file). */
export function callNode<T>(
  dataDir: string,
  node: { url: string },
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = DEFAULT_NODE_CLIENT_TIMEOUT_MS,
): Promise<T> {
  return createNodeClient({ url: node.url, dataDir, timeoutMs }).call<T>(method, path, body);
}
