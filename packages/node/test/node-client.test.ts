import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTokenFile, tokenFilePath } from '../src/auth/token-file.js';
import { memoryAdd, memoryList } from '../src/memory/memory-cli.js';
import { callNode, createNodeClient, NodeRequestError, NodeUnreachableError } from '../src/node-client.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

describe('the CLI’s node client', () => {
  let t: TestNode;
  const tokens = () =>
    readTokenFile(tokenFilePath(t.dataDir)).filter((entry) => entry.revokedAt === undefined);

  beforeAll(async () => {
    t = await startTestNode({ sim: { profile: 'fast', models: ['all-minilm:latest'] } });
  }, 60_000);
  afterAll(async () => {
    await t?.teardown();
  });

  it('should serve the memory commands and the operations commands with one cached data-dir token', async () => {
    // Each memory command builds its own client, as the CLI does per invocation.
    await memoryAdd(
      createNodeClient({ url: t.node.url, dataDir: t.dataDir }),
      'the spare key is under the mat',
    );
    const page = await memoryList(createNodeClient({ url: t.node.url, dataDir: t.dataDir }));
    expect(page.memories.map((m) => m.text)).toEqual(['the spare key is under the mat']);
    const peers = await callNode<unknown[]>(t.dataDir, { url: t.node.url }, 'GET', '/allerac/v1/peers');
    expect(peers).toEqual([]);
    expect(tokens().map((entry) => entry.name)).toEqual(['cli']);
  });

  it('should issue a fresh token once when the cached one is refused', async () => {
    const cache = join(t.dataDir, '.cli-token');
    writeFileSync(cache, 'alr_not-a-token-of-this-node\n');
    await memoryList(createNodeClient({ url: t.node.url, dataDir: t.dataDir }));
    expect(readFileSync(cache, 'utf8')).not.toContain('alr_not-a-token-of-this-node');
  });

  it('should not renew a token it was given, and say when the node is down', async () => {
    const given = createNodeClient({ url: t.node.url, token: 'alr_wrong' });
    const refused = await memoryList(given).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(NodeRequestError);
    expect((refused as NodeRequestError).status).toBe(401);
    await expect(memoryList(createNodeClient({ url: 'http://127.0.0.1:9', token: 'alr_x' }))).rejects.toThrow(
      NodeUnreachableError,
    );
  });
});
