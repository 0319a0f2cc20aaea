import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

/**
 * Browser-facing rules, as Ollama applies them (server/routes.go: gin-contrib/cors with
 * envconfig.AllowedOrigins, then allowedHostsMiddleware), made stricter where the node holds
 * more than Ollama does (accounts, memories):
 * - a Host header must name this machine: loopback, a local or private address, this host's
 *   name, a home-network name (`.local`, `.lan`, `.home.arpa`, `.internal`, `.localhost`) or a
 *   configured name. This stops DNS rebinding, which needs a public name that resolves here;
 * - a request whose Origin is not allowed is refused with 403, like gin-contrib/cors does;
 * - allowed foreign origins get CORS on the Ollama and OpenAI routes only; the UI's own routes
 *   (`/auth/*`, `/allerac/*`) accept their own origin alone;
 * - state-changing requests to the UI's routes must be `application/json`, which a cross-site
 *   form or "simple" request cannot send.
 */
export interface BrowserGuardInit {
  /** Extra allowed origins (ALLERAC_ORIGINS), with `*` wildcards as in OLLAMA_ORIGINS. */
  origins?: readonly string[];
  /** Extra host names this node answers to (ALLERAC_HOSTS), such as a router-assigned name. */
  hosts?: readonly string[];
}

/** Ollama's default allowed origins (envconfig.AllowedOrigins). */
export const OLLAMA_DEFAULT_ORIGINS: readonly string[] = [
  ...['localhost', '127.0.0.1', '0.0.0.0'].flatMap((host) => [
    `http://${host}`,
    `https://${host}`,
    `http://${host}:*`,
    `https://${host}:*`,
  ]),
  'app://*',
  'file://*',
  'tauri://*',
  'vscode-webview://*',
  'vscode-file://*',
];

/** gin-contrib/cors' AllowBrowserExtensions schemes, which Ollama turns on. */
const EXTENSION_SCHEMES = [
  'chrome-extension://',
  'safari-extension://',
  'moz-extension://',
  'ms-browser-extension://',
];

/** The headers Ollama's CORS config allows (server/routes.go). */
const ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'User-Agent',
  'Accept',
  'X-Requested-With',
  'OpenAI-Beta',
  'x-stainless-arch',
  'x-stainless-async',
  'x-stainless-custom-poll-interval',
  'x-stainless-helper-method',
  'x-stainless-lang',
  'x-stainless-os',
  'x-stainless-package-version',
  'x-stainless-poll-helper',
  'x-stainless-retry-count',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-timeout',
].join(', ');
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS';
/** gin-contrib/cors' default preflight cache: 12 hours. */
const PREFLIGHT_MAX_AGE_SECONDS = String(12 * 60 * 60);

/** Name suffixes only a home network resolves; a rebinding attacker cannot own them. */
const HOME_SUFFIXES = ['.localhost', '.local', '.lan', '.home.arpa', '.internal'];

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Thrown when a request comes from a place a browser rule refuses. */
export class BrowserOriginError extends HttpError {
  override name = 'BrowserOriginError';
  constructor(message: string) {
    super(403, message, 'permission_error', 'origin_not_allowed');
  }
}

/** Turns an origin pattern with `*` into a matcher (the wildcard matches any run of characters). */
function originMatcher(pattern: string): (origin: string) => boolean {
  const lower = pattern.toLowerCase();
  if (!lower.includes('*')) return (origin) => origin === lower;
  const escaped = lower.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'));
  const regex = new RegExp(`^${escaped.join('.*')}$`);
  return (origin) => regex.test(origin);
}

/** The host part of a Host header value ("[::1]:8080" → "::1", "nas.local:80" → "nas.local"). */
export function hostOf(header: string): string {
  const value = header.trim().toLowerCase();
  if (value.startsWith('['))
    return value.slice(1, value.indexOf(']') === -1 ? undefined : value.indexOf(']'));
  const colon = value.lastIndexOf(':');
  return colon === -1 || value.indexOf(':') !== colon ? value : value.slice(0, colon);
}

/** True for loopback, private, link-local and unspecified addresses. */
function isLocalOrPrivateAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  if (isIP(a) === 4) {
    const [p, q] = a.split('.').map(Number) as [number, number];
    return (
      p === 127 ||
      p === 10 ||
      p === 0 ||
      (p === 172 && q >= 16 && q <= 31) ||
      (p === 192 && q === 168) ||
      (p === 169 && q === 254)
    );
  }
  return a === '::1' || a === '::' || /^f[cd]/.test(a) || /^fe[89ab]/.test(a);
}

/** The addresses of this machine's interfaces. */
function interfaceAddresses(): Set<string> {
  const found = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const entry of list ?? []) found.add(entry.address.toLowerCase().split('%')[0]!);
  }
  return found;
}

/** Decides which Host headers and Origins this node accepts. */
export class BrowserPolicy {
  private readonly origins: Array<(origin: string) => boolean>;
  private readonly hosts: Set<string>;

  constructor(init: BrowserGuardInit = {}) {
    this.origins = [...(init.origins ?? []), ...OLLAMA_DEFAULT_ORIGINS].map(originMatcher);
    this.hosts = new Set([hostname().toLowerCase(), ...(init.hosts ?? []).map((h) => h.toLowerCase())]);
  }

  /** Whether a Host header names this machine (an absent one, from HTTP/1.0, does). */
  hostAllowed(header: string | undefined): boolean {
    if (header === undefined || header === '') return true;
    const host = hostOf(header);
    if (host === '' || host === 'localhost' || this.hosts.has(host)) return true;
    if (isIP(host) !== 0) return isLocalOrPrivateAddress(host) || interfaceAddresses().has(host);
    return HOME_SUFFIXES.some((suffix) => host.endsWith(suffix));
  }

  /** Whether a foreign origin may call the Ollama and OpenAI routes. */
  originAllowed(origin: string): boolean {
    const lower = origin.toLowerCase();
    if (EXTENSION_SCHEMES.some((scheme) => lower.startsWith(scheme))) return true;
    return this.origins.some((matches) => matches(lower));
  }
}

/** Whether the Origin is the page this node served itself (scheme aside, as gin-contrib/cors). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  const lower = origin.toLowerCase();
  const wanted = host.toLowerCase();
  return lower === `http://${wanted}` || lower === `https://${wanted}`;
}

/** Ollama- and OpenAI-shaped routes, where foreign origins may be allowed; judged on the matched route. */
function isClientApiRoute(routeUrl: string | undefined): boolean {
  if (routeUrl === undefined) return false;
  return routeUrl === '/' || routeUrl.startsWith('/api/') || routeUrl.startsWith('/v1/');
}

/** Whether a request carries a body, by its framing headers. */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined && length !== '0') return true;
  return request.headers['transfer-encoding'] !== undefined;
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

function answerPreflight(reply: FastifyReply, origin: string): FastifyReply {
  return reply
    .status(204)
    .header('Access-Control-Allow-Origin', origin)
    .header('Access-Control-Allow-Methods', ALLOWED_METHODS)
    .header('Access-Control-Allow-Headers', ALLOWED_HEADERS)
    .header('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_SECONDS)
    .header('Vary', 'Origin')
    .send();
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The body is a file (a document import), so it is not JSON. The Origin rule still applies,
     * and a session must still echo its CSRF token; a bearer token no page can attach.
     */
    fileBody?: boolean;
  }
}

/** Registers the Host, Origin, CORS and content-type rules; runs before authentication. */
export function registerBrowserGuard(app: FastifyInstance, policy: BrowserPolicy): void {
  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host;
    if (!policy.hostAllowed(host)) {
      throw new BrowserOriginError(
        `Host "${host}" is not a name of this node; add it to ALLERAC_HOSTS if it should be`,
      );
    }
    const origin = request.headers.origin;
    const clientApi = isClientApiRoute(request.routeOptions.url);
    if (origin !== undefined && !sameOrigin(origin, host)) {
      if (!clientApi || !policy.originAllowed(origin)) {
        throw new BrowserOriginError(
          `requests from the web page at ${origin} are not allowed; add its origin to ALLERAC_ORIGINS if it should be`,
        );
      }
      reply.header('Access-Control-Allow-Origin', origin).header('Vary', 'Origin');
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
        return answerPreflight(reply, origin);
      }
    }
    const fileBody = request.routeOptions.config?.fileBody === true;
    if (!clientApi && !fileBody && !SAFE_METHODS.has(request.method) && hasBody(request)) {
      if (!isJson(request.headers['content-type'])) {
        throw new HttpError(415, 'send the request body as application/json', 'invalid_request_error');
      }
    }
    return undefined;
  });
}
