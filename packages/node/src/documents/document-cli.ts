/**
 * `allerac documents import|list|search|delete`: thin clients of the running node's
 * /allerac/v1/documents API, over the CLI's node client (node-client.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import {
  type ConnectionOptions,
  collectRepeated,
  connectFromOptions,
  printResult,
  withConnectionOptions,
} from '../cli-connection.js';
import type {
  DocumentHitView,
  DocumentList,
  DocumentSearchResults,
  DocumentView,
} from '../contract/documents.js';
import type { NodeClient } from '../node-client.js';
import { MAX_DOCUMENT_BYTES } from './constants.js';
import { DocumentTooLargeError } from './errors.js';

const API = '/allerac/v1/documents';

/** The media type the node reads a file as, from its extension; others let the node refuse it. */
export function mediaTypeOf(path: string): string {
  const extension = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  if (extension === 'pdf') return 'application/pdf';
  if (extension === 'md' || extension === 'markdown') return 'text/markdown';
  if (extension === 'txt' || extension === 'text') return 'text/plain';
  return 'application/octet-stream';
}

/** `documents import`: sends the file; returns the imported document. */
export async function documentImport(
  client: NodeClient,
  path: string,
  options: { space?: string | undefined; name?: string | undefined } = {},
): Promise<DocumentView> {
  // Refused here rather than after uploading 20 MiB to be told so.
  if ((await stat(path)).size > MAX_DOCUMENT_BYTES) {
    throw new DocumentTooLargeError(
      `${path} is larger than ${MAX_DOCUMENT_BYTES} bytes, the most a document may be`,
    );
  }
  const query = new URLSearchParams({ name: options.name ?? basename(path) });
  if (options.space !== undefined) query.set('space', options.space);
  return client.send<DocumentView>('POST', `${API}?${query}`, await readFile(path), mediaTypeOf(path));
}

/** `documents list`: one page, newest first. */
export const documentList = (client: NodeClient, options: { space?: string | undefined } = {}) =>
  client.call<DocumentList>(
    'GET',
    options.space === undefined ? API : `${API}?${new URLSearchParams({ space: options.space })}`,
  );

/** `documents search`: the closest parts, with their citations. */
export const documentSearch = (
  client: NodeClient,
  query: string,
  options: { spaces?: string[] | undefined; limit?: number | undefined } = {},
) => client.call<DocumentSearchResults>('POST', `${API}/search`, { query, ...options });

/** `documents delete`. */
export const documentDelete = (client: NodeClient, id: string) =>
  client.call<undefined>('DELETE', `${API}/${encodeURIComponent(id)}`);

const clientOf = (options: ConnectionOptions) =>
  // An import embeds every part before it answers: a long document takes a while.
  connectFromOptions(options, 600_000);
const line = (d: DocumentView) =>
  `${d.id}  [${d.space ?? 'private'}]  ${d.name}  ${d.type}, ${d.parts} parts`;
const hitLine = (h: DocumentHitView) =>
  `${h.score.toFixed(3)}  ${h.citation}  ${h.text.replace(/\s+/g, ' ').slice(0, 160)}`;

/** Registers `documents` on the CLI. */
export function registerDocumentCommands(program: Command): void {
  const documents = program
    .command('documents')
    .description('PDF, Markdown and text documents of a running node, searchable with citations');
  withConnectionOptions(
    documents.command('import').description('import a PDF, Markdown or text file').argument('<file>'),
  )
    .option('--space <space>', 'put it in a shared space (default: private)')
    .option('--name <name>', 'the name to cite it by (default: the file name)')
    .action(async (file: string, options: ConnectionOptions & { space?: string; name?: string }) => {
      const created = await documentImport(clientOf(options), file, {
        space: options.space,
        name: options.name,
      });
      printResult(options, created, () => line(created));
    });
  withConnectionOptions(documents.command('list').description('list documents, newest first'))
    .option('--space <space>', 'one space, or "private"')
    .action(async (options: ConnectionOptions & { space?: string }) => {
      const page = await documentList(clientOf(options), { space: options.space });
      printResult(options, page, () => page.documents.map(line).join('\n'));
    });
  withConnectionOptions(
    documents.command('search').description('search documents by meaning').argument('<query...>'),
  )
    .option('--space <space>', 'a space to search, or "private" (repeatable)', collectRepeated)
    .option('--limit <n>', 'how many parts', '5')
    .action(async (query: string[], options: ConnectionOptions & { space?: string[]; limit: string }) => {
      const found = await documentSearch(clientOf(options), query.join(' '), {
        spaces: options.space,
        limit: Number(options.limit),
      });
      printResult(options, found, () => found.results.map(hitLine).join('\n'));
    });
  withConnectionOptions(
    documents.command('delete').description('delete a document and all its parts').argument('<id>'),
  ).action(async (id: string, options: ConnectionOptions) => {
    await documentDelete(clientOf(options), id);
    printResult(options, { deleted: id }, () => `deleted ${id}`);
  });
}
