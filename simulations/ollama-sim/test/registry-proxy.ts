/**
 * A registry proxy for the pull tests: it forwards to a simulator serving its store as a registry,
 * records each request's Range header, and can misbehave the ways real registries and links do:
 * drop the Location header, or cut a Range answer off after some bytes.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the proxy misbehaves; changeable while it runs. */
export interface ProxyFaults {
  /** Remove Location from every answer. */
  stripLocation?: boolean;
  /** Cut the next Range answer after this many body bytes (then forward normally again). */
  cutNextRangeAfter?: number;
}

/** A running proxy. */
export interface RegistryProxy {
  /** `127.0.0.1:<port>`, the host part of a model name. */
  host: string;
  faults: ProxyFaults;
  /** `METHOD path range` of each request, oldest first. */
  seen: string[];
  close(): Promise<void>;
}

/** Starts a proxy in front of `upstream` (a base URL such as http://127.0.0.1:1234). */
export async function startRegistryProxy(upstream: string): Promise<RegistryProxy> {
  const target = new URL(upstream);
  const proxy: RegistryProxy = { host: '', faults: {}, seen: [], close: async () => {} };
  const server: Server = createServer((req, res) => {
    proxy.seen.push(`${req.method} ${req.url} ${req.headers.range ?? ''}`.trim());
    const cut = req.headers.range !== undefined ? proxy.faults.cutNextRangeAfter : undefined;
    if (cut !== undefined) proxy.faults.cutNextRangeAfter = undefined;
    const upstreamReq = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (upstreamRes) => {
        const headers = { ...upstreamRes.headers };
        if (proxy.faults.stripLocation) delete headers.location;
        else if (headers.location !== undefined) {
          // The upstream names itself; the client must keep coming through the proxy.
          headers.location = headers.location.replace(target.host, proxy.host);
        }
        res.writeHead(upstreamRes.statusCode ?? 502, headers);
        if (cut === undefined) {
          upstreamRes.pipe(res);
          return;
        }
        let sent = 0;
        upstreamRes.on('data', (chunk: Buffer) => {
          if (sent >= cut) return;
          const piece = chunk.subarray(0, cut - sent);
          sent += piece.length;
          if (sent >= cut) {
            upstreamRes.destroy();
            res.write(piece, () => res.destroy());
          } else res.write(piece);
        });
      },
    );
    req.pipe(upstreamReq);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
