/**
 * `allerac memory add|list|search|share|unshare` and `allerac space create|list|leave|purge-history`:
 * thin clients of the running node's /allerac/v1 API, over the CLI's node client (node-client.ts).
 */
import type { Command } from 'commander';
import {
  type ConnectionOptions,
  collectRepeated,
  connectFromOptions,
  printResult,
  withConnectionOptions,
} from '../cli-connection.js';
import type { NodeClient } from '../node-client.js';

/** The memory API's root. */
const API = '/allerac/v1';

interface MemoryJson {
  id: string;
  text: string;
  tags: string[];
  space: string | null;
  author: string;
  createdAt: string;
}

/** `memory add`: returns the new memory. */
export const memoryAdd = (
  client: NodeClient,
  text: string,
  options: { tags?: string[]; space?: string } = {},
) => client.call<MemoryJson>('POST', `${API}/memories`, { text, tags: options.tags, space: options.space });

/** `memory list`: one page. */
export const memoryList = (
  client: NodeClient,
  options: { space?: string; tag?: string; limit?: number; cursor?: string } = {},
) => {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(options)) if (value !== undefined) query.set(key, String(value));
  return client.call<{ memories: MemoryJson[]; nextCursor: string | null }>(
    'GET',
    `${API}/memories?${query}`,
  );
};

/** `memory search`. */
export const memorySearch = (
  client: NodeClient,
  query: string,
  options: { k?: number; space?: string; tags?: string[] } = {},
) =>
  client.call<{
    results: Array<{ id: string; text: string; score: number; space: string | null; author: string }>;
  }>('POST', `${API}/memories/search`, { query, ...options });

/** `memory share`. */
export const memoryShare = (client: NodeClient, id: string, space: string) =>
  client.call<MemoryJson>('POST', `${API}/memories/${encodeURIComponent(id)}/share`, { space });

/** `memory unshare`. */
export const memoryUnshare = (client: NodeClient, id: string) =>
  client.call<MemoryJson>('POST', `${API}/memories/${encodeURIComponent(id)}/unshare`, {});

/** `space create`; `peers` is "all" or a comma-separated list of peer ids. */
export const spaceCreate = (client: NodeClient, name: string, peers = 'all') =>
  client.call('POST', `${API}/spaces`, {
    name,
    peers: peers === 'all' ? 'all' : peers.split(',').map((p) => p.trim()),
  });

/** `space list`. */
export const spaceList = (client: NodeClient) =>
  client.call<{
    spaces: Array<{ name: string; epoch: number; policy: { peers: unknown }; memories: number }>;
  }>('GET', `${API}/spaces`);

/** `space leave`. */
export const spaceLeave = (client: NodeClient, name: string) =>
  client.call('POST', `${API}/spaces/${encodeURIComponent(name)}/leave`, {});

/** `space purge-history`. */
export const spacePurge = (client: NodeClient, name: string) =>
  client.call('POST', `${API}/spaces/${encodeURIComponent(name)}/purge-history`, {});

const clientOf = (options: ConnectionOptions) => connectFromOptions(options, 60_000);
const line = (m: MemoryJson) =>
  `${m.id}  [${m.space ?? 'private'}]  ${m.text}${m.tags.length > 0 ? `  #${m.tags.join(' #')}` : ''}`;

/** Registers `memory` and `space` on the CLI. */
export function registerMemoryCommands(program: Command): void {
  const memory = program.command('memory').description('private and shared memories of a running node');
  withConnectionOptions(memory.command('add').description('add a memory').argument('<text...>'))
    .option('--tag <tag>', 'a tag (repeatable)', collectRepeated)
    .option('--space <space>', 'put it in a shared space at once')
    .action(async (text: string[], options: ConnectionOptions & { tag?: string[]; space?: string }) => {
      const created = await memoryAdd(clientOf(options), text.join(' '), {
        tags: options.tag,
        space: options.space,
      });
      printResult(options, created, () => line(created));
    });
  withConnectionOptions(memory.command('list').description('list memories, newest first'))
    .option('--space <space>', 'one space, or "private"')
    .option('--tag <tag>', 'only memories with this tag')
    .option('--limit <n>', 'how many', '50')
    .action(async (options: ConnectionOptions & { space?: string; tag?: string; limit: string }) => {
      const page = await memoryList(clientOf(options), {
        space: options.space,
        tag: options.tag,
        limit: Number(options.limit),
      });
      printResult(options, page, () => page.memories.map(line).join('\n'));
    });
  withConnectionOptions(
    memory.command('search').description('search memories by meaning').argument('<query...>'),
  )
    .option('-k <k>', 'how many results', '5')
    .option('--space <space>', 'one space, or "private"')
    .action(async (query: string[], options: ConnectionOptions & { k: string; space?: string }) => {
      const found = await memorySearch(clientOf(options), query.join(' '), {
        k: Number(options.k),
        space: options.space,
      });
      printResult(options, found, () =>
        found.results
          .map((r) => `${r.score.toFixed(3)}  ${r.id}  [${r.space ?? 'private'}]  ${r.text}`)
          .join('\n'),
      );
    });
  withConnectionOptions(
    memory
      .command('share')
      .description('move a private memory into a space')
      .argument('<id>')
      .argument('<space>'),
  ).action(async (id: string, space: string, options: ConnectionOptions) => {
    const shared = await memoryShare(clientOf(options), id, space);
    printResult(options, shared, () => line(shared));
  });
  withConnectionOptions(
    memory.command('unshare').description('take a memory out of its space').argument('<id>'),
  ).action(async (id: string, options: ConnectionOptions) => {
    const unshared = await memoryUnshare(clientOf(options), id);
    printResult(options, unshared, () => line(unshared));
  });

  const space = program.command('space').description('shared memory spaces of a running node');
  withConnectionOptions(space.command('create').description('create or join a space').argument('<name>'))
    .option('--peers <peers>', '"all" paired peers, or comma-separated peer ids', 'all')
    .action(async (name: string, options: ConnectionOptions & { peers: string }) => {
      const created = await spaceCreate(clientOf(options), name, options.peers);
      printResult(options, created, () => `created ${name}`);
    });
  withConnectionOptions(space.command('list').description('list spaces')).action(
    async (options: ConnectionOptions) => {
      const listed = await spaceList(clientOf(options));
      printResult(options, listed, () =>
        listed.spaces
          .map(
            (s) =>
              `${s.name}  ${s.memories} memories  epoch ${s.epoch}  peers ${JSON.stringify(s.policy.peers)}`,
          )
          .join('\n'),
      );
    },
  );
  withConnectionOptions(space.command('leave').description('leave a space').argument('<name>')).action(
    async (name: string, options: ConnectionOptions) => {
      printResult(options, await spaceLeave(clientOf(options), name), () => `left ${name}`);
    },
  );
  withConnectionOptions(
    space
      .command('purge-history')
      .description("rewrite a space's document without its history")
      .argument('<name>'),
  ).action(async (name: string, options: ConnectionOptions) => {
    printResult(options, await spacePurge(clientOf(options), name), () => `purged the history of ${name}`);
  });
}
