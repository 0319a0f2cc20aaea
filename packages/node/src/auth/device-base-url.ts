/**
 * The base URLs a device key is handed out with: what to paste into an Ollama client
 * (`http://<node>:<port>/k/<key>`) and into an OpenAI one (`.../k/<key>/v1`), addressed the way
 * other machines of the home reach this node.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import { isLoopback } from './api-tokens.js';

/** The ready base URLs of a device key. */
export interface DeviceBaseUrls {
  /** For Ollama clients: OLLAMA_HOST, Open WebUI's Ollama URL, Home Assistant's URL. */
  ollama: string;
  /** For OpenAI clients: the SDKs' `baseURL`. */
  openai: string;
}

/** Where the node can be reached from the home, and whether it can be at all. */
export interface NodeOrigin {
  /** `http://host:port`, without a trailing slash. */
  origin: string;
  /** False when the node listens on loopback only (other machines cannot reach it). */
  reachableFromLan: boolean;
}

/** The base URLs of a key at an origin. */
export function deviceBaseUrls(origin: string, key: string): DeviceBaseUrls {
  const base = `${origin.replace(/\/+$/, '')}/k/${key}`;
  return { ollama: base, openai: `${base}/v1` };
}

const isLoopbackName = (hostname: string): boolean => {
  const plain = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return plain === 'localhost' || plain.endsWith('.localhost') || isLoopback(plain);
};

const isWildcard = (address: string): boolean => address === '0.0.0.0' || address === '::';

const hostPart = (address: string): string => (address.includes(':') ? `[${address}]` : address);

/** A private IPv4 range (RFC 1918), which is what a home network uses. */
const isPrivateV4 = (address: string): boolean =>
  /^10\./.test(address) || /^192\.168\./.test(address) || /^172\.(1[6-9]|2\d|3[01])\./.test(address);

/** This machine's IPv4 address on the home network: a private one first, else any external one. */
function lanAddress(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | undefined {
  const v4 = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((info) => info.family === 'IPv4' && !info.internal)
    .map((info) => info.address);
  return v4.find(isPrivateV4) ?? v4[0];
}

/**
 * The origin to hand out: the one the issuing request used (`host`, its Host header), unless that
 * names loopback, which another machine cannot use; then the address the node listens on, or for
 * a wildcard listener this machine's LAN address.
 */
export function nodeOrigin(init: {
  /** The Host header of the issuing request, e.g. `192.168.1.5:8080` or `127.0.0.1:8080`. */
  host: string;
  /** The address and port the HTTP server listens on. */
  listen: { address: string; port: number };
  /** `os.networkInterfaces()`. */
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>;
}): NodeOrigin {
  const { host, listen, interfaces } = init;
  const reachableFromLan = !isLoopback(listen.address);
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    hostname = '127.0.0.1';
  }
  if (!isLoopbackName(hostname)) return { origin: `http://${host}`, reachableFromLan };
  if (!reachableFromLan)
    return { origin: `http://${hostPart(listen.address)}:${listen.port}`, reachableFromLan };
  const address = isWildcard(listen.address) ? lanAddress(interfaces) : listen.address;
  if (address === undefined) return { origin: `http://127.0.0.1:${listen.port}`, reachableFromLan: false };
  return { origin: `http://${hostPart(address)}:${listen.port}`, reachableFromLan };
}
