/**
 * The transport: one libp2p 3 host (TCP, pre-shared key, noise, yamux, mDNS, identify, ping),
 * started on the mesh key and restarted on a new one with the same port, handlers and listeners.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import type { Connection, Libp2p, PeerId, PrivateKey } from '@libp2p/interface';
import { mdns } from '@libp2p/mdns';
import { type Ping, ping } from '@libp2p/ping';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import type { FsDatastore } from 'datastore-fs';
import { createLibp2p } from 'libp2p';
import type { Logger } from 'pino';
import type { MeshStreamHandler, StreamAdmission } from './admission.js';
import { formatSwarmKey } from './mesh-key.js';
import { PEER_MEMORY_MS } from './peer-memory.js';
import { fixPskCipherMemory } from './psk-cipher.js';

/** Our own mDNS service tag, so other libp2p software on the LAN is neither found nor dialled. */
export const DEFAULT_MDNS_SERVICE_TAG = '_allerac-mesh._udp.local';
/** mDNS query interval: short, because a home LAN is small and joins should feel instant. */
export const DEFAULT_MDNS_INTERVAL_MS = 2_000;
/**
 * libp2p's reconnect queue redials a KEEP_ALIVE peer after a drop: first delay, doubling, bounded
 * attempts (about four minutes in all); past that the dialer's tick keeps trying (dialer.ts).
 */
const REDIAL_FIRST_MS = 250;
const REDIAL_ATTEMPTS = 10;
/** Our handlers do their own per-peer limits (admission.ts); libp2p's must not cut in first. */
const LIBP2P_STREAM_LIMIT = 1024;

/**
 * The most bytes one stream may have in flight. yamux grows each stream's window to 16 MiB by
 * default, and a bulk stream (a model copy, up to 16 parts at once) then queues that much in the
 * sender's noise and pnet buffers ahead of the card stream's heartbeats on the one connection: at
 * a busy receiver's pace that is seconds, and the peer looks gone. 1 MiB still fills a gigabit LAN
 * (and measured as fast as 4 MiB on loopback).
 */
export const MAX_STREAM_WINDOW_BYTES = 1024 * 1024;

// Once per process, before any connection exists: every pnet cipher shares the patched prototype.
fixPskCipherMemory();

type Services = { identify: unknown; ping: Ping };

/** The host's settings. */
export interface TransportInit {
  listenHost: string;
  p2pPort: number;
  mdns?: boolean;
  mdnsServiceTag?: string;
  mdnsIntervalMs?: number;
}

/** What the transport reads and whom it tells. */
export interface TransportComponents {
  logger: Logger;
  privateKey: () => PrivateKey;
  datastore: () => FsDatastore | undefined;
  isDenied: (peer: string) => boolean;
  admission: StreamAdmission;
  /** The handlers to register on every host, registered again after each restart. */
  handlers: () => Iterable<[string, MeshStreamHandler]>;
  connected: (peer: string) => void;
  disconnected: (peer: string) => void;
  discovered: (peer: string, addresses: string[]) => void;
}

/** The running libp2p host. */
export class Transport {
  private host: Libp2p<Services> | undefined;
  /** The port the host got; kept across key restarts so peers' remembered addresses stay valid. */
  private boundPort: number | undefined;

  constructor(
    private readonly init: TransportInit,
    private readonly components: TransportComponents,
  ) {}

  get node(): Libp2p<Services> | undefined {
    return this.host;
  }

  /** Starts a host on `key`, on the port of the previous host when it is still free. */
  async start(key: Uint8Array): Promise<void> {
    if (this.boundPort !== undefined && this.boundPort !== this.init.p2pPort) {
      try {
        await this.startOn(this.boundPort, key);
        return;
      } catch (err) {
        this.components.logger.warn(
          { event: 'mesh-port-taken', port: this.boundPort, err: String(err) },
          'previous port taken',
        );
        await Promise.resolve(this.host?.stop()).catch(() => undefined);
      }
    }
    await this.startOn(this.init.p2pPort, key);
  }

  async stop(): Promise<void> {
    await this.host?.stop();
  }

  /** Registers a handler on the running host (later hosts get it from `handlers`). */
  async handle(protocol: string, handler: MeshStreamHandler): Promise<void> {
    await this.host?.handle(protocol, this.components.admission.wrap(protocol, handler), {
      maxInboundStreams: LIBP2P_STREAM_LIMIT,
      maxOutboundStreams: LIBP2P_STREAM_LIMIT,
    });
  }

  private async startOn(port: number, key: Uint8Array): Promise<void> {
    const { admission } = this.components;
    const denied = (peer: PeerId) => this.components.isDenied(peer.toString());
    const datastore = this.components.datastore();
    const node = await createLibp2p<Services>({
      privateKey: this.components.privateKey(),
      ...(datastore !== undefined ? { datastore } : {}),
      peerStore: { maxAddressAge: PEER_MEMORY_MS, maxPeerAge: PEER_MEMORY_MS },
      addresses: { listen: [`/ip4/${this.init.listenHost}/tcp/${port}`] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      // yamux aborts a muxer that receives more than 10 streams before libp2p has built the
      // connection over it (it is still asking the gater), and the connection then stays listed
      // with a dead muxer and its peer never counted: a flooder that starts at once would slip
      // past admission. Those streams wait for the connection instead, and are counted there.
      streamMuxers: [
        admission.muxer(
          yamux({
            maxEarlyStreams: LIBP2P_STREAM_LIMIT,
            streamOptions: { maxStreamWindowSize: MAX_STREAM_WINDOW_BYTES },
          }),
        ),
      ],
      connectionProtector: preSharedKey({ psk: formatSwarmKey(key) }),
      connectionGater: {
        denyDialPeer: denied,
        denyInboundEncryptedConnection: denied,
        denyOutboundEncryptedConnection: denied,
        denyDialMultiaddr: () => false,
      },
      peerDiscovery:
        this.init.mdns === false
          ? []
          : [
              mdns({
                serviceTag: this.init.mdnsServiceTag ?? DEFAULT_MDNS_SERVICE_TAG,
                interval: this.init.mdnsIntervalMs ?? DEFAULT_MDNS_INTERVAL_MS,
              }),
            ],
      services: { identify: identify(), ping: ping() },
      // libp2p pings every connection (the RTT the card reports). It would also abort a connection
      // whose ping failed: on a busy mini-PC a late ping then cut answers mid-stream. Liveness is
      // the heartbeat's job here (a silent peer is hung up on), so a failed ping only goes unmeasured.
      connectionMonitor: { abortConnectionOnPingFailure: false },
      connectionManager: {
        // libp2p's default (5 inbound connections a second per host) is meant for the public
        // internet; a home mesh restarting after a key rotation reconnects faster than that.
        inboundConnectionThreshold: 50,
        reconnectRetries: REDIAL_ATTEMPTS,
        reconnectRetryInterval: REDIAL_FIRST_MS,
        reconnectBackoffFactor: 2,
      },
      start: false,
    });
    for (const [protocol, handler] of this.components.handlers()) {
      await node.handle(protocol, admission.wrap(protocol, handler), {
        maxInboundStreams: LIBP2P_STREAM_LIMIT,
        maxOutboundStreams: LIBP2P_STREAM_LIMIT,
      });
    }
    node.addEventListener('connection:open', (evt: CustomEvent<Connection>) =>
      admission.connectionOpened(evt.detail),
    );
    node.addEventListener('peer:connect', (evt) => this.components.connected(evt.detail.toString()));
    node.addEventListener('peer:disconnect', (evt) => this.components.disconnected(evt.detail.toString()));
    node.addEventListener('peer:discovery', (evt) => {
      this.components.discovered(evt.detail.id.toString(), evt.detail.multiaddrs.map(String));
    });
    this.host = node;
    await node.start();
    const bound = node
      .getMultiaddrs()[0]
      ?.getComponents()
      .find((c) => c.name === 'tcp')?.value;
    if (bound !== undefined) this.boundPort = Number(bound);
  }
}
