/**
 * The live data of GET /allerac/v1/events: system samples from the sampler, the peer list on each
 * mesh peer event, and this node's description whenever its card changes. One subscription to
 * each source serves every open stream, and only while one is open.
 */
import type { TypedEventTarget } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { MeshRuntimeEvents, PeerSummary } from '../mesh-runtime.js';
import type { SystemSampler } from '../system/system-sampler.js';
import type { SseStream } from './sse.js';

/** The part of the mesh runtime the live events read. */
export interface LiveMesh extends TypedEventTarget<MeshRuntimeEvents> {
  /** The peers, as GET /allerac/v1/peers lists them. */
  peers(): PeerSummary[];
}

/** What the live events read. */
export interface LiveEventsComponents {
  sampler: SystemSampler;
  mesh: LiveMesh;
  /** This node as GET /allerac/v1/node describes it. */
  nodeInfo: () => Promise<unknown>;
  logger: Logger;
}

const PEER_EVENTS = ['peer:join', 'peer:update', 'peer:leave'] as const;
const NODE_EVENTS = ['self:update', 'mesh:start'] as const;

/** Fans the node's events out to the open event streams. */
export class LiveEvents {
  private readonly streams = new Set<SseStream>();
  /** Node descriptions go out in the order their events came, one read at a time. */
  private nodeChain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly components: LiveEventsComponents) {}

  /** Sends the current state to a new stream, then every change until it closes. */
  async add(stream: SseStream): Promise<void> {
    const node = await this.readNode();
    if (stream.closed || this.closed) return;
    stream.send('history', { samples: this.components.sampler.recent() });
    stream.send('peers', this.components.mesh.peers());
    if (node !== undefined) stream.send('node', node);
    if (this.streams.size === 0) this.subscribe();
    this.streams.add(stream);
    stream.signal.addEventListener('abort', () => this.remove(stream), { once: true });
  }

  /** Stops listening to every source; the streams themselves are closed by their owner. */
  close(): void {
    this.closed = true;
    if (this.streams.size > 0) this.unsubscribe();
    this.streams.clear();
  }

  private remove(stream: SseStream): void {
    if (!this.streams.delete(stream)) return;
    if (this.streams.size === 0) this.unsubscribe();
  }

  private subscribe(): void {
    const { sampler, mesh } = this.components;
    sampler.addEventListener('sample', this.onSample);
    for (const type of PEER_EVENTS) mesh.addEventListener(type, this.onPeers);
    for (const type of NODE_EVENTS) mesh.addEventListener(type, this.onNode);
  }

  private unsubscribe(): void {
    const { sampler, mesh } = this.components;
    sampler.removeEventListener('sample', this.onSample);
    for (const type of PEER_EVENTS) mesh.removeEventListener(type, this.onPeers);
    for (const type of NODE_EVENTS) mesh.removeEventListener(type, this.onNode);
  }

  private broadcast(event: string, data: unknown): void {
    for (const stream of this.streams) {
      // A listener that throws would surface as an uncaught exception (EventTarget), so none may.
      try {
        stream.send(event, data);
      } catch (error) {
        this.components.logger.debug({ err: error, event }, 'could not send a live event');
        stream.close();
      }
    }
  }

  private readonly onSample = (evt: CustomEvent<unknown>) => this.broadcast('system', evt.detail);

  private readonly onPeers = () => this.broadcast('peers', this.components.mesh.peers());

  private readonly onNode = () => {
    this.nodeChain = this.nodeChain.then(async () => {
      const node = await this.readNode();
      if (node !== undefined) this.broadcast('node', node);
    });
  };

  private async readNode(): Promise<unknown> {
    try {
      return await this.components.nodeInfo();
    } catch (error) {
      this.components.logger.debug({ err: error }, 'could not describe this node for the event stream');
      return undefined;
    }
  }
}
