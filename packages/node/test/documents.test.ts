import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { chunkText } from '../src/documents/chunk-text.js';
import { CHUNK_OVERLAP_CHARS, MAX_CHUNK_CHARS, MAX_DOCUMENT_BYTES } from '../src/documents/constants.js';
import {
  documentDelete,
  documentImport,
  documentList,
  documentSearch,
} from '../src/documents/document-cli.js';
import { searchDocuments } from '../src/documents/document-search.js';
import { createNodeClient, NodeRequestError } from '../src/node-client.js';
import { makePdf } from './helpers/pdf-fixture.js';
import { startTestNode, type TestNode } from './helpers/test-node.js';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are arbitrary JSON; the assertions check them
type Json = any;

const MANUAL = `# Boiler manual

The boiler is a Vaillant ecoTEC plus installed in the utility room in 2021.

## Radiators

Bleed the radiators every October before the heating season, starting on the ground floor.

## Warranty

The warranty runs until March 2031 and needs a yearly service by a registered engineer.
`;

describe('chunkText', () => {
  it('should keep every part within the bound and repeat the end of the one before', () => {
    const paragraph = (n: number) => `Paragraph ${n} ${'lorem ipsum dolor sit amet '.repeat(12)}`.trim();
    const text = Array.from({ length: 30 }, (_, i) => paragraph(i)).join('\n\n');
    const parts = chunkText(text);
    expect(parts.length).toBeGreaterThan(5);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(MAX_CHUNK_CHARS);
    for (let i = 1; i < parts.length; i++) {
      const tail = parts[i - 1]!.slice(-CHUNK_OVERLAP_CHARS / 2);
      expect(parts[i]).toContain(tail);
    }
    // Nothing is lost: every paragraph starts in some part.
    for (let i = 0; i < 30; i++) expect(parts.some((p) => p.includes(`Paragraph ${i} `))).toBe(true);
  });

  it('should start a new part at a heading and cut a paragraph with no blank lines', () => {
    const parts = chunkText(`# A\n\n${'alpha '.repeat(60)}\n\n# B\n\nbeta`);
    expect(parts).toHaveLength(2);
    expect(parts[1]).toBe('# B\n\nbeta');
    const long = chunkText('word '.repeat(2_000));
    expect(long.length).toBeGreaterThan(5);
    for (const part of long) expect(part.length).toBeLessThanOrEqual(MAX_CHUNK_CHARS);
  });
});

describe('documents api', () => {
  let t: TestNode;
  let token: string;
  const upload = async (body: Uint8Array | string, query: string, type: string) => {
    const response = await fetch(`${t.node.url}/allerac/v1/documents?${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': type },
      body,
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as Json) };
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${t.node.url}/allerac/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as Json) };
  };
  const memoryCount = async () =>
    (
      await t.node.store.db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM memories WHERE source = 'document'",
        [],
      )
    )[0]!.n;

  beforeAll(async () => {
    t = await startTestNode({ sim: { profile: 'fast', models: ['all-minilm:latest'] } });
    token = issueAdminToken(t.dataDir, 'test');
    expect((await api('POST', '/spaces', { name: 'household', peers: 'all' })).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await t?.teardown();
  });

  it('should need a token', async () => {
    const response = await fetch(`${t.node.url}/allerac/v1/documents?name=a.txt`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(response.status).toBe(401);
  });

  it('should import Markdown into a space and find the right part with its citation', async () => {
    const imported = await upload(MANUAL, 'name=boiler.md&space=household', 'text/markdown');
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ name: 'boiler.md', type: 'markdown', space: 'household' });
    expect(imported.body.parts).toBeGreaterThanOrEqual(1);
    const found = await api('POST', '/documents/search', { query: 'bleed the radiators', limit: 3 });
    expect(found.status).toBe(200);
    const [best] = found.body.results;
    expect(best).toMatchObject({ documentId: imported.body.id, name: 'boiler.md', space: 'household' });
    expect(best.text).toContain('Bleed the radiators every October');
    expect(best.citation).toBe(`[boiler.md, part ${best.part}]`);
    const listed = await api('GET', '/documents?space=household');
    expect(listed.body.documents.map((d: Json) => d.id)).toContain(imported.body.id);
  });

  it('should import plain text privately, split into parts, and search one space only', async () => {
    const notes = Array.from(
      { length: 12 },
      (_, i) => `Note ${i}: ${'the garden shed holds the lawn mower and the hedge trimmer. '.repeat(4)}`,
    );
    notes[9] = 'Note 9: the spare house key is taped under the third flower pot by the back door.';
    const imported = await upload(notes.join('\n\n'), 'name=notes.txt', 'text/plain; charset=utf-8');
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ type: 'text', space: null });
    expect(imported.body.parts).toBeGreaterThan(1);
    const hits = await searchDocuments(t.node.memory, 'spare house key taped under the flower pot', {
      spaces: ['private'],
      limit: 2,
    });
    expect(hits[0]).toMatchObject({ name: 'notes.txt', space: null });
    expect(hits[0]!.text).toContain('spare house key');
    const householdOnly = await searchDocuments(t.node.memory, 'where is the spare house key', {
      spaces: ['household'],
    });
    expect(householdOnly.length).toBeGreaterThan(0);
    expect(householdOnly.every((hit) => hit.space === 'household')).toBe(true);
    const privateOnly = await api('GET', '/documents?space=private');
    expect(privateOnly.body.documents.map((d: Json) => d.name)).toEqual(['notes.txt']);
  });

  it('should import a PDF, find its page text, and delete every part', async () => {
    const pdf = makePdf([
      'Invoice 2291 from the roofer: gutters cleaned and two tiles replaced.',
      'The solar inverter is a Fronius Primo; its error code 567 means grid voltage too high.',
    ]);
    const before = await memoryCount();
    const imported = await upload(pdf, 'name=house%20papers.pdf&space=household', 'application/pdf');
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ name: 'house papers.pdf', type: 'pdf' });
    const hits = await searchDocuments(t.node.memory, 'inverter error code 567', { spaces: ['household'] });
    expect(hits[0]).toMatchObject({ documentId: imported.body.id, name: 'house papers.pdf' });
    expect(hits[0]!.text).toContain('Fronius Primo');
    expect(await memoryCount()).toBe(before + imported.body.parts);

    expect((await api('DELETE', `/documents/${imported.body.id}`)).status).toBe(204);
    expect(await memoryCount()).toBe(before);
    expect((await api('DELETE', `/documents/${imported.body.id}`)).status).toBe(404);
    const again = await searchDocuments(t.node.memory, 'inverter error code 567', { spaces: ['household'] });
    expect(again.map((hit) => hit.documentId)).not.toContain(imported.body.id);
  });

  it('should take a generic type by the name extension', async () => {
    const imported = await upload(
      makePdf(['Octet stream but a PDF by name.']),
      'name=x.pdf',
      'application/octet-stream',
    );
    expect(imported.status).toBe(201);
    expect(imported.body.type).toBe('pdf');
    await api('DELETE', `/documents/${imported.body.id}`);
  });

  it('should refuse bad input with a clear 4xx and store nothing', async () => {
    const before = await memoryCount();
    const cases: Array<[string, Uint8Array | string, string, string, number, RegExp]> = [
      ['malformed PDF', '%PDF-1.4 this is not really a pdf', 'name=bad.pdf', 'application/pdf', 400, /PDF/],
      ['not a PDF at all', 'hello', 'name=bad.pdf', 'application/pdf', 400, /not a PDF/],
      [
        'encrypted PDF',
        makePdf(['secret'], { encrypted: true }),
        'name=e.pdf',
        'application/pdf',
        400,
        /encrypted/,
      ],
      ['unknown type', 'x', 'name=a.docx', 'application/vnd.ms-word', 400, /cannot import/],
      ['empty file', '', 'name=a.txt', 'text/plain', 400, /empty/],
      ['blank text', ' \n\n\t ', 'name=a.txt', 'text/plain', 400, /no text/],
      ['PDF without text', makePdf(['']), 'name=blank.pdf', 'application/pdf', 400, /no text/],
      ['not UTF-8', new Uint8Array([0xff, 0xfe, 0xfa]), 'name=a.txt', 'text/plain', 400, /UTF-8/],
      ['unknown space', 'hello', 'name=a.txt&space=nowhere', 'text/plain', 404, /nowhere/],
      ['no name', 'hello', 'space=household', 'text/plain', 400, /name/],
    ];
    for (const [what, body, query, type, status, message] of cases) {
      const result = await upload(body, query, type);
      expect({ what, status: result.status }).toEqual({ what, status });
      expect(JSON.stringify(result.body), what).toMatch(message);
    }
    const tooBig = await upload(new Uint8Array(MAX_DOCUMENT_BYTES + 1), 'name=big.txt', 'text/plain');
    expect(tooBig.status).toBe(413);
    expect((await api('DELETE', '/documents/not-an-id')).status).toBe(400);
    expect(await memoryCount()).toBe(before);
  }, 60_000);

  it('should keep the JSON body limit and parser for the other routes', async () => {
    const response = await fetch(`${t.node.url}/allerac/v1/documents/search`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(response.status).toBe(400);
  });

  it('should import, list, search and delete through the CLI commands', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'allerac-docs-'));
    try {
      const client = createNodeClient({ url: t.node.url, dataDir: t.dataDir });
      const file = join(dir, 'bike.pdf');
      writeFileSync(file, makePdf(['The bike lock code is four digits; the tyres take 4 bar.']));
      const created = await documentImport(client, file, { space: 'household' });
      expect(created).toMatchObject({ name: 'bike.pdf', type: 'pdf', space: 'household' });
      expect((await documentList(client, { space: 'household' })).documents.map((d) => d.id)).toContain(
        created.id,
      );
      const found = await documentSearch(client, 'bike tyres pressure bar', {
        spaces: ['household'],
        limit: 1,
      });
      expect(found.results[0]?.citation).toBe('[bike.pdf, part 1]');
      await documentDelete(client, created.id);
      const odd = join(dir, 'notes.docx');
      writeFileSync(odd, 'x');
      await expect(documentImport(client, odd)).rejects.toThrow(NodeRequestError);
      await expect(documentImport(client, odd)).rejects.toThrow(/cannot import/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should take a file body from a session only with its CSRF token and from its own origin', async () => {
    const setup = await t.node.http.inject({
      method: 'POST',
      url: '/auth/setup',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'ana', password: 'correct horse battery' }),
    });
    expect(setup.statusCode).toBeLessThan(300);
    const cookies = Object.fromEntries(setup.cookies.map((c) => [c.name, c.value]));
    const cookie = Object.entries(cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    const post = (headers: Record<string, string>) =>
      t.node.http.inject({
        method: 'POST',
        url: '/allerac/v1/documents?name=planted.txt',
        headers: { 'content-type': 'text/plain', cookie, ...headers },
        payload: 'planted by another page',
      });
    expect((await post({})).statusCode).toBe(403);
    expect(
      (await post({ 'x-csrf-token': cookies.allerac_csrf!, origin: 'https://evil.example' })).statusCode,
    ).toBe(403);
    const own = await post({ 'x-csrf-token': cookies.allerac_csrf! });
    expect(own.statusCode).toBe(201);
    expect(own.json().name).toBe('planted.txt');
  });

  it("should keep a member's private document from another member", async () => {
    const issue = async (name: string) =>
      (await api('POST', '/tokens', { name, role: 'member' })).body.token as string;
    const kid = await issue('kid');
    const teen = await issue('teen');
    const as = async (who: string, method: string, path: string, body?: string) => {
      const response = await fetch(`${t.node.url}/allerac/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${who}`,
          'content-type': body === undefined ? 'application/json' : 'text/plain',
        },
        body: body ?? (method === 'POST' ? '{"query":"diary hiding place"}' : undefined),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as Json) };
    };
    const diary = await as(
      kid,
      'POST',
      '/documents?name=diary.txt',
      'My diary hiding place is behind the books.',
    );
    expect(diary.status).toBe(201);
    expect(
      (await as(kid, 'GET', '/documents?space=private')).body.documents.map((d: Json) => d.name),
    ).toEqual(['diary.txt']);
    expect((await as(teen, 'GET', '/documents')).body.documents.map((d: Json) => d.id)).not.toContain(
      diary.body.id,
    );
    const found = await as(teen, 'POST', '/documents/search');
    expect(found.body.results.map((r: Json) => r.documentId)).not.toContain(diary.body.id);
    expect((await as(teen, 'DELETE', `/documents/${diary.body.id}`)).status).toBe(404);
    expect((await as(kid, 'DELETE', `/documents/${diary.body.id}`)).status).toBe(204);
  });
});
