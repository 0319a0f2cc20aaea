/**
 * How the CLI talks to the node that holds a data dir: over its management API with an admin
 * token from the data dir's token file. The token is cached in `<dataDir>/.cli-token` (0600) so
 * repeated commands do not pile up tokens; it is re-issued when the node stops accepting it.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueAdminToken } from '../auth/api-tokens.js';
import type { RuntimeInfo } from './runtime-file.js';

const CLI_TOKEN_FILE = '.cli-token';

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
  const token = issueAdminToken(dataDir, 'cli');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}

/** Sends one JSON request to the running node and returns its JSON answer. */
export async function callNode<T>(
  dataDir: string,
  node: RuntimeInfo,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 600_000,
): Promise<T> {
  for (const renew of [false, true]) {
    const response = await fetch(`${node.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${cachedToken(dataDir, renew)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (response.status === 401 && !renew) continue;
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { message?: string } | string } | undefined)?.error;
      const message = typeof error === 'string' ? error : (error?.message ?? `HTTP ${response.status}`);
      throw new NodeRequestError(response.status, message);
    }
    return parsed as T;
  }
  throw new NodeRequestError(401, 'the node refused the admin token');
}
