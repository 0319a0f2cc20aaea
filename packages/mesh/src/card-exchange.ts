/**
 * The card protocol (protocol.md §5): each side opens one outbound card stream to each peer and
 * writes its signed card, then card updates, heartbeats and a final leave; it reads the peer's
 * stream the same way.
 */
import {
  CARD_PROTOCOL,
  CARD_UPDATE_MIN_INTERVAL_MS,
  type CardMessage,
  type CardUpdateMessage,
  FramedStream,
  FrameTimeoutError,
  type HardwareInfo,
  type LoadInfo,
  type ModelInfo,
  type NodeCard,
  PROTOCOL_VERSION,
  ProtocolError,
  signedCardMessage,
  UnexpectedMessageError,
  verifyCardMessage,
} from '@allerac/protocol';
import type { Libp2p, PrivateKey, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Logger } from 'pino';
import type { Liveness } from './liveness.js';

/** An `opening` entry older than this belongs to a card-stream attempt that hung; it is ignored. */
const OPENING_STALE_MS = 30_000;

/** The parts of the card that the rest of the node knows: backend, models and load. */
export interface LocalCardState {
  /** Backend state. */
  backend: NodeCard['backend'];
  /** Installed models. */
  models: ModelInfo[];
  /** Live load. */
  load: LoadInfo;
  /** MACs and Wake-on-LAN flags, so peers can wake this machine (protocol.md, NodeCard). */
  wake?: Pick<NodeCard, 'macs' | 'wakeOnLan' | 'preferredWhenOn'>;
}

/** Reads this machine's hardware facts (free memory, GPUs) when a card is built. */
export type HardwareProbe = () => Promise<HardwareInfo>;

/** What the card exchange reads and whom it tells. */
export interface CardExchangeComponents {
  logger: Logger;
  hardware: HardwareProbe;
  cardSource: () => Promise<LocalCardState>;
  liveness: Liveness;
  /** The running transport, if any. */
  node: () => Libp2p | undefined;
  privateKey: () => PrivateKey;
  peerId: () => string;
  identity: () => { name: string; specializations: string[]; softwareVersion: string };
  /** A peer broke the protocol. */
  misbehave: (peer: string, reason: string, err: unknown) => void;
  /** A peer came online with a verified card. */
  joined: (peer: string) => void;
  /** This node published a new card. */
  published: (card: NodeCard) => void;
}

/** This node's card, its outbound card streams and the reading of peers' streams. */
export class CardExchange {
  private readonly outbound = new Map<string, FramedStream>();
  /** Card streams being opened, with when the attempt started. */
  private readonly opening = new Map<string, number>();
  private updateTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private current: CardMessage | undefined;
  private lastPublishedAt = 0;
  private running = false;

  constructor(private readonly components: CardExchangeComponents) {}

  /** Warms the hardware probe's cache, so the first card, sent on the first connection, is not delayed. */
  async warm(): Promise<void> {
    await this.components.hardware().catch(() => undefined);
  }

  start(): void {
    this.running = true;
  }

  /** Says leave on every outbound stream and stops publishing. */
  async stop(reason: string): Promise<void> {
    this.running = false;
    clearTimeout(this.updateTimer);
    this.updateTimer = undefined;
    const streams = [...this.outbound.entries()];
    await Promise.allSettled(
      streams.map(async ([peer, s]) => {
        await this.send(peer, s, { type: 'leave', reason });
        await s.close({ signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
      }),
    );
  }

  /** Forgets every outbound stream (the transport under them stopped). */
  clear(): void {
    this.outbound.clear();
  }

  /** Whether an outbound card stream to `peer` is open. */
  has(peer: string): boolean {
    return this.outbound.has(peer);
  }

  drop(peer: string): void {
    this.outbound.delete(peer);
  }

  async localCard(): Promise<NodeCard> {
    if (this.current !== undefined) return this.current.card;
    return this.buildCard(this.seq);
  }

  /** Publishes a changed card, at most once per CARD_UPDATE_MIN_INTERVAL_MS. */
  changed(): void {
    if (!this.running || this.updateTimer !== undefined) return;
    const delay = Math.max(0, this.lastPublishedAt + CARD_UPDATE_MIN_INTERVAL_MS - Date.now());
    this.updateTimer = setTimeout(() => {
      this.publish()
        .catch((err: unknown) =>
          this.components.logger.warn({ event: 'card-publish-failed', err }, 'card publish failed'),
        )
        .finally(() => {
          this.updateTimer = undefined;
        });
    }, delay);
  }

  /** Sends a heartbeat on every outbound stream. */
  heartbeat(seq: number): void {
    const heartbeat = { type: 'heartbeat' as const, seq, sentAt: Date.now() };
    for (const [peer, s] of this.outbound) void this.send(peer, s, heartbeat);
  }

  /** Opens the outbound card stream to a connected peer and writes the card. */
  async open(peer: string): Promise<void> {
    const node = this.components.node();
    if (node === undefined || this.outbound.has(peer)) return;
    const openingSince = this.opening.get(peer);
    if (openingSince !== undefined && Date.now() - openingSince < OPENING_STALE_MS) return;
    const started = Date.now();
    this.opening.set(peer, started);
    try {
      const stream = await node.dialProtocol(peerIdFromString(peer), CARD_PROTOCOL, {
        signal: AbortSignal.timeout(10_000),
      });
      const framed = new FramedStream(stream, { protocol: CARD_PROTOCOL });
      await framed.write(await this.currentCard(), { signal: AbortSignal.timeout(10_000) });
      if (this.components.node() !== node) {
        stream.abort(new Error('transport restarted'));
        return;
      }
      this.outbound.set(peer, framed);
      stream.addEventListener(
        'close',
        () => {
          if (this.outbound.get(peer) === framed) this.outbound.delete(peer);
        },
        { once: true },
      );
    } catch (err) {
      this.components.logger.debug(
        { event: 'card-stream-failed', peer, err: String(err) },
        'could not open card stream',
      );
    } finally {
      if (this.opening.get(peer) === started) this.opening.delete(peer);
    }
  }

  /** Reads a peer's card stream: its card first, then updates, heartbeats and a leave. */
  async handle(stream: Stream, peer: string): Promise<void> {
    const framed = new FramedStream(stream, { protocol: CARD_PROTOCOL });
    const { liveness } = this.components;
    try {
      const first = await framed.read();
      if (first === undefined) return;
      if (first.type !== 'card')
        throw new UnexpectedMessageError(`first card-stream frame was ${first.type}`);
      await this.accept(peer, first, true);
      for (;;) {
        const message = await framed.read();
        if (message === undefined) return;
        if (message.type === 'card-update') await this.accept(peer, message, false);
        else if (message.type === 'heartbeat') liveness.touch(peer);
        else if (message.type === 'leave') {
          liveness.left(peer, `leave: ${message.reason ?? ''}`);
          return;
        } else throw new UnexpectedMessageError(`unexpected ${message.type} on an open card stream`);
      }
    } catch (err) {
      if (err instanceof ProtocolError && !(err instanceof FrameTimeoutError && liveness.has(peer))) {
        this.components.misbehave(peer, 'card-stream', err);
      }
      framed.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private async accept(
    peer: string,
    message: CardMessage | CardUpdateMessage,
    first: boolean,
  ): Promise<void> {
    const card = await verifyCardMessage(message, peer, PROTOCOL_VERSION);
    if (this.components.liveness.accept(peer, card, first) !== 'joined') return;
    if (!this.outbound.has(peer)) void this.open(peer);
    this.components.joined(peer);
  }

  private async buildCard(seq: number): Promise<NodeCard> {
    const [hardware, local] = await Promise.all([this.components.hardware(), this.components.cardSource()]);
    const identity = this.components.identity();
    return {
      name: identity.name,
      peerId: this.components.peerId(),
      softwareVersion: identity.softwareVersion,
      protocolVersion: PROTOCOL_VERSION,
      hardware: coarseHardware(hardware),
      backend: local.backend,
      models: local.models,
      load: local.load,
      specializations: identity.specializations,
      ...local.wake,
      issuedAt: Date.now(),
      seq,
    };
  }

  private async currentCard(): Promise<CardMessage> {
    if (this.current === undefined) {
      const card = await this.buildCard(++this.seq);
      this.current = (await signedCardMessage('card', card, this.components.privateKey())) as CardMessage;
    }
    return this.current;
  }

  private async publish(): Promise<void> {
    if (!this.running) return;
    const previous = await this.currentCard();
    const card = await this.buildCard(this.seq + 1);
    const strip = ({ issuedAt: _i, seq: _s, ...rest }: NodeCard) => JSON.stringify(rest);
    if (strip(card) === strip(previous.card)) return;
    this.seq = card.seq;
    this.current = (await signedCardMessage('card', card, this.components.privateKey())) as CardMessage;
    this.lastPublishedAt = Date.now();
    this.components.published(card);
    const update: CardUpdateMessage = { ...this.current, type: 'card-update' };
    await Promise.allSettled([...this.outbound.entries()].map(([peer, s]) => this.send(peer, s, update)));
  }

  private async send(peer: string, stream: FramedStream, message: Parameters<FramedStream['write']>[0]) {
    try {
      await stream.write(message, { signal: AbortSignal.timeout(5_000) });
    } catch (err) {
      if (this.outbound.get(peer) === stream) this.outbound.delete(peer);
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

/**
 * Free memory and disk move by a few bytes every second; published at that precision they would
 * make every card differ and flood the mesh with updates. 64 MiB steps are finer than any model.
 */
const CARD_MEMORY_STEP = 64 * 1024 * 1024;

function coarse(bytes: number): number {
  return Math.floor(bytes / CARD_MEMORY_STEP) * CARD_MEMORY_STEP;
}

function coarseHardware(hardware: HardwareInfo): HardwareInfo {
  return {
    ...hardware,
    ramFree: coarse(hardware.ramFree),
    diskFree: coarse(hardware.diskFree),
    ...(hardware.swapFree !== undefined ? { swapFree: coarse(hardware.swapFree) } : {}),
    gpus: hardware.gpus.map((gpu) => ({ ...gpu, vramFree: coarse(gpu.vramFree) })),
  };
}
