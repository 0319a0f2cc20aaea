/**
 * The CLI's one client of a running node's API. It finds the node from its data dir's runtime
 * file (`node.json`) and authenticates with a token it is given, or with the data dir's CLI
 * token: cached in `<dataDir>/.cli-token` (0600) so repeated commands do not pile up tokens,
 * expiring after a month, and re-issued only when the token file says it is missing, expired or
 * revoked.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { issueAdminToken } from './auth/api-tokens.js';
import { readTokenFile, tokenFilePath } from './auth/token-file.js';
import { isExpired } from './auth/token-lifetime.js';
import { hashToken, sameHash } from './auth/token-secret.js';
import { findRunningNode } from './backup/runtime-file.js';

const CLI_TOKEN_FILE = '.cli-token';

/** The cached token lives a month: a copied `.cli-token` stops working, and the next command issues a fresh one. */
const CLI_TOKEN_LIFETIME_MS = 30 * 24 * 3600_000;

/** A cached token this close to its expiry is replaced, so it cannot expire in the middle of a command. */
const CLI_TOKEN_RENEW_BEFORE_MS = 3600_000;

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

/** No node runs on the data dir (no runtime file, or its process is gone), and no URL was given. */
export class NodeNotRunningError extends Error {
  override name = 'NodeNotRunningError';
  constructor(readonly dataDir: string) {
    super(
      `no node is running on the data dir ${dataDir}: start it with \`allerac start --data-dir ${dataDir}\`, or pass --url`,
    );
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
  /** Sends bytes as the body (a document import), of the given media type, and returns the JSON answer. */
  send<T = Record<string, unknown>>(
    method: string,
    path: string,
    data: Uint8Array,
    contentType: string,
  ): Promise<T>;
}

/** Creates a client; throws NodeTokenMissingError when it has no way to authenticate. */
export function createNodeClient(init: NodeClientInit, components: NodeClientComponents = {}): NodeClient {
  const { token, dataDir } = init;
  if (token === undefined && dataDir === undefined) throw new NodeTokenMissingError();
  const fetchFn = components.fetch ?? fetch;
  const url = init.url.replace(/\/+$/, '');
  const timeoutMs = init.timeoutMs ?? DEFAULT_NODE_CLIENT_TIMEOUT_MS;
  // Looked up once per client, when the first request needs it: a command is one client.
  let bearer: string | undefined;

  const request = async <T>(
    method: string,
    path: string,
    body: { data: string | Uint8Array; contentType: string } | undefined,
  ): Promise<T> => {
    bearer ??= token ?? cliToken(dataDir as string);
    let response: Response;
    try {
      response = await fetchFn(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${bearer}`,
          ...(body === undefined ? {} : { 'content-type': body.contentType }),
        },
        body: body?.data,
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
    // The token file vouches for the data dir's token, so a 401 means the URL is another node's.
    if (response.status === 401 && token === undefined)
      throw new NodeRequestError(
        401,
        `the node at ${url} refused the CLI token of ${dataDir}: is it the node of that data dir? (drop --url to find it from the data dir)`,
      );
    throw new NodeRequestError(response.status, errorMessage(parsed, response.status));
  };
  return {
    url,
    call: <T>(method: string, path: string, body?: unknown) =>
      request<T>(
        method,
        path,
        body === undefined ? undefined : { data: JSON.stringify(body), contentType: 'application/json' },
      ),
    send: <T>(method: string, path: string, data: Uint8Array, contentType: string) =>
      request<T>(method, path, { data, contentType }),
  };
}

/**
 * The client of the node running on `dataDir`: at `url` when given, else where its runtime file
 * says; throws NodeNotRunningError when neither knows a node.
 */
export function connectNode(options: {
  dataDir: string;
  url?: string | undefined;
  token?: string | undefined;
  timeoutMs?: number | undefined;
}): NodeClient {
  const dataDir = resolve(options.dataDir);
  const url = options.url ?? findRunningNode(dataDir)?.url;
  if (url === undefined) throw new NodeNotRunningError(dataDir);
  return createNodeClient({ url, token: options.token, dataDir, timeoutMs: options.timeoutMs });
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

/** The data dir's CLI token: the cached one while the token file holds it live, else a new one. */
export function cliToken(dataDir: string): string {
  // A data dir that does not exist is a typo: never create one (and a token in it) by asking.
  if (!existsSync(dataDir)) throw new NodeNotRunningError(dataDir);
  const file = join(dataDir, CLI_TOKEN_FILE);
  let cached = '';
  try {
    cached = readFileSync(file, 'utf8').trim();
  } catch {
    // none yet
  }
  if (cached !== '' && isLive(dataDir, cached)) return cached;
  const token = issueAdminToken(dataDir, 'cli', { expiresAt: new Date(Date.now() + CLI_TOKEN_LIFETIME_MS) });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

function isLive(dataDir: string, token: string): boolean {
  const hash = hashToken(token);
  const entry = readTokenFile(tokenFilePath(dataDir)).find((e) => sameHash(e.hash, hash));
  if (entry === undefined || entry.revokedAt !== undefined) return false;
  return !isExpired(entry.expiresAt, new Date(Date.now() + CLI_TOKEN_RENEW_BEFORE_MS));
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
