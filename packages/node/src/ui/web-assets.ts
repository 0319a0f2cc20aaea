import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { asPublicRoutes } from '../http/route-access.js';

/** The SPA's client-side routes; each answers with index.html. */
export const SPA_ROUTES = [
  '/setup',
  '/login',
  '/chat',
  '/agents',
  '/models',
  '/memories',
  '/assistants',
  '/dashboard',
  '/settings',
] as const;

/** Shown at `/` when packages/web has not been built. */
export const UI_NOT_BUILT_MESSAGE =
  'The Allerac web UI is not built yet. Run `npm run build` in the repository root (or `npm install`, which builds it), then reload this page.\n';

/** Where the built UI is: the installed @allerac/web package's dist, else the sibling workspace's. */
export function resolveWebDist(): string | undefined {
  const candidates: string[] = [];
  try {
    candidates.push(join(dirname(fileURLToPath(import.meta.resolve('@allerac/web/package.json'))), 'dist'));
  } catch {
    // Not installed as a package: fall back to the monorepo layout below.
  }
  candidates.push(fileURLToPath(new URL('../../../web/dist', import.meta.url)));
  return candidates.find((dir) => existsSync(join(dir, 'index.html')));
}

/** A browser navigation (not an Ollama client probing `/`). */
const wantsHtml = (accept: string | undefined) => typeof accept === 'string' && accept.includes('text/html');

/**
 * Serves the built SPA: hashed assets (cached for a year) under /assets/, index.html for `/` when
 * a browser asks and for every client-side route. `GET /` without Accept: text/html keeps
 * answering "Ollama is running" for Ollama clients.
 */
export async function registerWebAssets(app: FastifyInstance, distDir: string | undefined): Promise<void> {
  const sendIndex = async (reply: FastifyReply) => {
    if (distDir === undefined || !existsSync(join(distDir, 'index.html'))) {
      return reply.status(503).type('text/plain; charset=utf-8').send(UI_NOT_BUILT_MESSAGE);
    }
    const html = await readFile(join(distDir, 'index.html'), 'utf8');
    return reply
      .type('text/html; charset=utf-8')
      .header('Cache-Control', 'no-cache')
      .header('X-Content-Type-Options', 'nosniff')
      .header('Referrer-Policy', 'same-origin')
      .header(
        'Content-Security-Policy',
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
      )
      .send(html);
  };

  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'GET' && request.routeOptions.url === '/' && wantsHtml(request.headers.accept)) {
      return sendIndex(reply);
    }
  });
  for (const route of SPA_ROUTES)
    app.get(route, { config: { access: 'public' } }, async (_request, reply) => sendIndex(reply));

  if (distDir === undefined) return;
  const assets = join(distDir, 'assets');
  if (existsSync(assets)) {
    await asPublicRoutes(app, async (child) => {
      await child.register(fastifyStatic, {
        root: assets,
        prefix: '/assets/',
        decorateReply: false,
        immutable: true,
        maxAge: 365 * 24 * 60 * 60_000,
      });
    });
  }
  for (const file of ['favicon.svg']) {
    app.get(`/${file}`, { config: { access: 'public' } }, async (_request, reply) => {
      const path = join(distDir, file);
      if (!existsSync(path)) return reply.callNotFound();
      return reply
        .type('image/svg+xml')
        .header('Cache-Control', 'max-age=86400')
        .send(await readFile(path));
    });
  }
}
