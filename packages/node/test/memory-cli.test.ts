import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  memoryAdd,
  memoryList,
  memorySearch,
  memoryShare,
  memoryUnshare,
  spaceCreate,
  spaceLeave,
  spaceList,
} from '../src/memory/memory-cli.js';
import {
  createNodeClient,
  type NodeClient,
  NodeRequestError,
  NodeTokenMissingError,
  NodeUnreachableError,
} from '../src/node-client.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

describe('memory and space CLI commands', () => {
  let t: TestNode;
  let client: NodeClient;

  beforeAll(async () => {
    t = await startTestNode({ sim: { profile: 'fast', models: ['llama3.2:3b', 'all-minilm:latest'] } });
    client = createNodeClient({ url: t.node.url, dataDir: t.dataDir });
  });
  afterAll(async () => {
    await t?.teardown();
  });

  it('should add, list, search, share and unshare through the running node', async () => {
    const added = await memoryAdd(client, 'the plumber is called Marco', { tags: ['contacts'] });
    expect(added).toMatchObject({ text: 'the plumber is called Marco', tags: ['contacts'], space: null });
    expect((await memoryList(client, { tag: 'contacts' })).memories.map((m) => m.id)).toEqual([added.id]);
    expect((await memorySearch(client, 'who is the plumber', { k: 1 })).results[0]?.id).toBe(added.id);
    await spaceCreate(client, 'household');
    expect((await spaceList(client)).spaces.map((s) => s.name)).toEqual(['household']);
    expect((await memoryShare(client, added.id, 'household')).space).toBe('household');
    expect((await memoryUnshare(client, added.id)).space).toBeNull();
    await spaceLeave(client, 'household');
    expect((await spaceList(client)).spaces).toEqual([]);
  });

  it('should report the node errors and a wrong token clearly', async () => {
    await expect(memoryShare(client, 'nope', 'household')).rejects.toThrow(NodeRequestError);
    const bad = createNodeClient({ url: t.node.url, token: 'alr_wrong' });
    await expect(memoryList(bad)).rejects.toThrow(/invalid, expired or revoked API token/);
    const down = createNodeClient({ url: 'http://127.0.0.1:9', token: 'alr_x' });
    await expect(memoryList(down)).rejects.toThrow(NodeUnreachableError);
    await expect(memoryList(down)).rejects.toThrow(/cannot reach the node/);
    expect(() => createNodeClient({ url: t.node.url })).toThrow(NodeTokenMissingError);
  });
});
