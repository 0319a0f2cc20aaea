/**
 * Liveness: what this node knows of each peer (its card, online or gone, when last heard from)
 * and the views and events the rest of the node sees. A peer is gone after a leave, a disconnect
 * or more silence than HEARTBEAT_MISS_THRESHOLD heartbeats allow.
 */
import { HEARTBEAT_MISS_THRESHOLD, type NodeCard } from '@allerac/protocol';
import type { Logger } from 'pino';
import { displayNames } from './peer-names.js';

/** What this node knows about one peer. */
export interface PeerView {
  /** Peer id. */
  id: string;
  /** Name from its card, with a short id suffix when another node publishes the same name. */
  name: string;
  /** True when the name clashes with another node's, so the UI can ask for a rename. */
  nameClash: boolean;
  /** `online` while connected and heard from; `gone` after leave, disconnect or silence. */
  status: 'online' | 'gone';
  /** Its last verified card. */
  card: NodeCard;
  /** When it was last heard from, ms since the epoch. */
  lastSeen: number;
  /** Last measured round-trip time in ms. */
  rttMs?: number;
  /** Remote addresses of its open connections. */
  addresses: string[];
}

/** One peer's state. */
export interface PeerState {
  id: string;
  card?: NodeCard;
  status: 'online' | 'gone';
  lastSeen: number;
  rttMs?: number;
  /** Left gracefully: not redialled until it shows up again. */
  left: boolean;
}

/** The peer events liveness raises. */
export type PeerEvent = 'peer:join' | 'peer:update' | 'peer:leave';

/** What liveness reads and whom it tells. */
export interface LivenessComponents {
  logger: Logger;
  /** This node's own name, against which peers' display names are made unique. */
  ownName: () => string;
  /** Remote addresses of the open connections to a peer. */
  addresses: (peer: string) => string[];
  /** Raises a peer event. */
  emit: (event: PeerEvent, view: PeerView) => void;
}

/** The table of peers, kept up to date by cards, heartbeats and disconnects. */
export class Liveness {
  private readonly states = new Map<string, PeerState>();
  private lastTickAt: number | undefined;
  /** This process's recent event-loop lateness at heartbeat ticks, decaying, in ms. */
  private recentLag = 0;

  constructor(
    private readonly heartbeatMs: number,
    private readonly components: LivenessComponents,
  ) {}

  get(peer: string): PeerState | undefined {
    return this.states.get(peer);
  }

  has(peer: string): boolean {
    return this.states.has(peer);
  }

  all(): IterableIterator<PeerState> {
    return this.states.values();
  }

  delete(peer: string): void {
    this.states.delete(peer);
  }

  /** Starts measuring lateness afresh (a new start). */
  reset(): void {
    this.lastTickAt = undefined;
    this.recentLag = 0;
  }

  /** Records a verified card; returns whether the peer just came online (false for an update). */
  accept(peer: string, card: NodeCard, first: boolean): 'joined' | 'updated' | 'stale' {
    let state = this.states.get(peer);
    if (state !== undefined && !first && state.card !== undefined && card.seq <= state.card.seq)
      return 'stale';
    const wasOnline = state?.status === 'online' && state.card !== undefined;
    if (state === undefined) {
      state = { id: peer, status: 'online', lastSeen: Date.now(), left: false };
      this.states.set(peer, state);
    }
    state.card = card;
    state.status = 'online';
    state.left = false;
    state.lastSeen = Date.now();
    this.emit(wasOnline ? 'peer:update' : 'peer:join', state);
    if (!wasOnline)
      this.components.logger.info({ event: 'peer-joined', peer, name: card.name }, 'peer joined');
    return wasOnline ? 'updated' : 'joined';
  }

  /** A heartbeat: the peer is heard from (and back, unless it left). */
  touch(peer: string): void {
    const state = this.states.get(peer);
    if (state === undefined || state.card === undefined) return;
    state.lastSeen = Date.now();
    if (state.status === 'gone' && !state.left) {
      state.status = 'online';
      this.components.logger.info({ event: 'peer-returned', peer }, 'peer heard from again');
      this.emit('peer:join', state);
    }
  }

  /** The peer said goodbye: gone, and not redialled until it shows up again. */
  left(peer: string, reason: string): void {
    const state = this.states.get(peer);
    if (state !== undefined) state.left = true;
    this.markGone(peer, reason);
  }

  /** Every known peer may be redialled again (a new key: it may be back on the old one). */
  forgetLeaves(): void {
    for (const state of this.states.values()) state.left = false;
  }

  markGone(peer: string, reason: string): void {
    const state = this.states.get(peer);
    if (state === undefined || state.status === 'gone') return;
    state.status = 'gone';
    this.components.logger.info({ event: 'peer-gone', peer, name: state.card?.name, reason }, 'peer gone');
    this.emit('peer:leave', state);
  }

  markAllGone(reason: string): void {
    for (const peer of this.states.keys()) this.markGone(peer, reason);
  }

  /** A heartbeat tick: marks peers silent for too long gone. */
  tick(now: number): void {
    // When this process itself was starved (a busy mini-PC), peers' heartbeats may be waiting
    // unread in our buffers: silence is then measured against our own lateness too, so a loaded
    // node does not declare healthy peers gone and make the mesh flap.
    const lag = this.lastTickAt === undefined ? 0 : Math.max(0, now - this.lastTickAt - this.heartbeatMs);
    this.lastTickAt = now;
    this.recentLag = Math.max(lag, this.recentLag * 0.8);
    const silenceAllowed = this.heartbeatMs * HEARTBEAT_MISS_THRESHOLD + this.recentLag;
    for (const state of this.states.values()) {
      if (state.status === 'online' && now - state.lastSeen > silenceAllowed) {
        this.markGone(state.id, 'heartbeat-timeout');
      }
    }
  }

  /** Every peer with a card, online or gone. */
  views(): PeerView[] {
    const names = this.names();
    return [...this.states.values()].flatMap((p) => {
      const view = this.view(p, names);
      return view === undefined ? [] : [view];
    });
  }

  /** Display names of every peer with a card, unique against each other and this node. */
  private names() {
    const published = new Map<string, string>();
    for (const p of this.states.values()) if (p.card !== undefined) published.set(p.id, p.card.name);
    return displayNames(this.components.ownName(), published);
  }

  private view(state: PeerState, names = this.names()): PeerView | undefined {
    if (state.card === undefined) return undefined;
    const display = names.get(state.id);
    return {
      id: state.id,
      name: display?.name ?? state.card.name,
      nameClash: display?.clash ?? false,
      status: state.status,
      card: state.card,
      lastSeen: state.lastSeen,
      ...(state.rttMs !== undefined ? { rttMs: state.rttMs } : {}),
      addresses: this.components.addresses(state.id),
    };
  }

  private emit(event: PeerEvent, state: PeerState): void {
    const view = this.view(state);
    if (view !== undefined) this.components.emit(event, view);
  }
}
