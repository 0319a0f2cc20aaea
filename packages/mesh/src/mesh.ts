/**
 * The mesh host: composes the transport (transport.ts), stream admission (admission.ts), the card
 * protocol (card-exchange.ts), liveness (liveness.ts), redial (dialer.ts), persistence of peers
 * (peer-memory.ts) and key rotation (key-rotation.ts) behind the `Mesh` interface, and keeps the
 * key state. Out-of-date notices (stale-notifier.ts), joins (mesh-join.ts) and display names
 * (peer-names.ts) live in their own modules.
 */

import {
  CARD_PROTOCOL,
  HEARTBEAT_INTERVAL_MS,
  KEY_PROTOCOL,
  meshKeyId,
  type NodeCard,
  type SignedKeyRotation,
} from '@allerac/protocol';
import { type Libp2p, type PrivateKey, type Stream, TypedEventEmitter } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { Logger } from 'pino';
import { type MeshStreamHandler, StreamAdmission } from './admission.js';
import { CardExchange } from './card-exchange.js';
import { Dialer } from './dialer.js';
import { createKeyRotation, type KeyRotationService } from './key-rotation.js';
import { keyStatusOf, type MeshKeyStatus, reconcileKeyState } from './key-state.js';
import { Liveness, type PeerView } from './liveness.js';
import type { Mesh, MeshComponents, MeshEvents, MeshInit } from './mesh-api.js';
import { CannotRemoveSelfError, KeyRotationBusyError, MeshKeyOutOfDateError } from './mesh-errors.js';
import { applyJoin, type JoinOutcome, RetiredJoinCodeError } from './mesh-join.js';
import { loadOrCreateMeshKey, writeMeshKey } from './mesh-key.js';
import {
  addRetiredKey,
  loadMeshState,
  loadOrCreatePeerKey,
  loadRetiredKeys,
  type MeshState,
  saveMeshState,
} from './mesh-state.js';
import { PeerMemory } from './peer-memory.js';
import { PeerPolicy } from './peer-policy.js';
import { StaleNotifier } from './stale-notifier.js';
import { DEFAULT_MDNS_INTERVAL_MS, DEFAULT_MDNS_SERVICE_TAG, Transport } from './transport.js';

export type { MeshStreamHandler } from './admission.js';
export type { HardwareProbe, LocalCardState } from './card-exchange.js';
export type { MeshKeyStatus } from './key-state.js';
export type { PeerView } from './liveness.js';
export type { Mesh, MeshComponents, MeshEvents, MeshInit } from './mesh-api.js';
export { DEFAULT_MDNS_INTERVAL_MS, DEFAULT_MDNS_SERVICE_TAG };

/** A peer silent this long is hung up on (without back-off) so the connection can be rebuilt. */
const SILENT_HANGUP_MS = 15_000;
/** Cards are re-read (RAM free, load) this often even when nobody calls cardChanged(). */
const CARD_REFRESH_MS = 5_000;

/** Creates the mesh; nothing happens until start(). */
export function createMesh(init: MeshInit, components: MeshComponents): Mesh {
  return new Libp2pMesh(init, components);
}

class Libp2pMesh extends TypedEventEmitter<MeshEvents> implements Mesh {
  private init: MeshInit;
  private readonly log: Logger;
  private readonly heartbeatMs: number;
  private privateKey: PrivateKey | undefined;
  private meshKey: Uint8Array | undefined;
  private state: MeshState = { epoch: 0, blocked: [], retired: [] };
  private rotation: KeyRotationService | undefined;
  private notifier: StaleNotifier | undefined;
  private running = false;
  private lifecycle: Promise<void> = Promise.resolve();
  private readonly handlers = new Map<string, MeshStreamHandler>();
  private timers: NodeJS.Timeout[] = [];
  private tick = 0;
  private readonly policy: PeerPolicy;
  private readonly admission: StreamAdmission;
  private readonly transport: Transport;
  private readonly liveness: Liveness;
  private readonly cards: CardExchange;
  private readonly dialer: Dialer;
  private readonly memory: PeerMemory;

  constructor(init: MeshInit, components: MeshComponents) {
    super();
    this.init = init;
    this.log = components.logger.child({ component: 'mesh' });
    this.heartbeatMs = init.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
    const logger = this.log;
    const node = () => this.transport.node as Libp2p | undefined;
    const isDenied = (peer: string) => this.policy.isDenied(peer);
    this.policy = new PeerPolicy({
      logger,
      state: () => this.state,
      cutOff: (peer, reason) => {
        this.liveness.markGone(peer, reason);
        void this.transport.node?.hangUp(peerIdFromString(peer)).catch(() => undefined);
      },
    });
    this.admission = new StreamAdmission({ logger, policy: this.policy });
    this.memory = new PeerMemory(init.dataDir, { logger, node, isDenied });
    this.liveness = new Liveness(this.heartbeatMs, {
      logger,
      ownName: () => this.init.name,
      addresses: (peer) =>
        this.transport.node?.getConnections(peerIdFromString(peer)).map((c) => c.remoteAddr.toString()) ?? [],
      emit: (event, view) => this.safeDispatchEvent(event, { detail: view }),
    });
    this.cards = new CardExchange({
      logger,
      hardware: components.hardware,
      cardSource: components.cardSource,
      liveness: this.liveness,
      node,
      privateKey: () => this.privateKey as PrivateKey,
      peerId: () => this.peerId,
      identity: () => this.init,
      misbehave: (peer, reason, err) => this.policy.misbehave(peer, reason, err),
      joined: (peer) => {
        void this.memory.remember(peer);
        void this.rotation?.catchUp(peer);
      },
      published: (card) => this.safeDispatchEvent('self:update', { detail: card }),
    });
    this.dialer = new Dialer({ logger, node, reachedButRefused: (peer) => void this.noticeIfStale(peer) });
    this.transport = new Transport(init, {
      logger,
      privateKey: () => this.privateKey as PrivateKey,
      datastore: () => this.memory.datastore,
      isDenied,
      admission: this.admission,
      handlers: () => this.handlers.entries(),
      connected: (peer) => {
        this.dialer.connected(peer);
        void this.cards.open(peer);
      },
      disconnected: (peer) => {
        this.cards.drop(peer);
        // The redial is libp2p's reconnect queue (KEEP_ALIVE), then the dialer's tick.
        this.liveness.markGone(peer, 'disconnected');
      },
      discovered: (peer, addresses) => {
        if (isDenied(peer)) return;
        const state = this.liveness.get(peer);
        if (state !== undefined) state.left = false;
        this.dialer.discovered(peer, addresses);
      },
    });
    this.handlers.set(CARD_PROTOCOL, (stream, peer) => this.cards.handle(stream, peer));
    this.handlers.set(KEY_PROTOCOL, (stream, peer) => this.rotation?.handle(stream, peer));
  }

  get peerId(): string {
    const node = this.transport.node;
    if (node === undefined) throw new Error('mesh not started');
    return node.peerId.toString();
  }

  start(): Promise<void> {
    this.lifecycle = this.lifecycle.then(async () => {
      if (this.running) return;
      this.privateKey ??= await loadOrCreatePeerKey(this.init.dataDir);
      this.meshKey = await loadOrCreateMeshKey(this.init.meshKeyFile);
      this.state = await reconcileKeyState(this.init.dataDir, this.meshKey, this.log);
      this.rotation ??= this.createRotation();
      this.rotation.reset();
      this.notifier ??= new StaleNotifier({
        privateKey: this.privateKey,
        dataDir: this.init.dataDir,
        logger: this.log,
      });
      await this.cards.warm();
      await this.memory.open();
      try {
        await this.transport.start(this.meshKey);
      } catch (err) {
        await this.memory.close();
        throw err;
      }
      this.dialer.bootstrap(this.init.bootstrap ?? []);
      for (const peer of await this.memory.recall(this.state.blocked)) this.dialer.known.add(peer);
      this.running = true;
      this.cards.start();
      this.dialer.start();
      this.liveness.reset();
      this.timers.push(setInterval(() => this.onTick(), this.heartbeatMs));
      this.timers.push(setInterval(() => this.cards.changed(), CARD_REFRESH_MS));
      this.log.info(
        { event: 'mesh-started', peerId: this.peerId, addresses: this.addresses(), epoch: this.state.epoch },
        'mesh started',
      );
      this.warnIfOutOfDate();
    });
    return this.lifecycle;
  }

  stop(): Promise<void> {
    this.lifecycle = this.lifecycle.then(async () => {
      if (!this.running) return;
      this.running = false;
      this.dialer.stop();
      for (const t of this.timers) clearInterval(t);
      this.timers = [];
      await this.cards.stop('shutdown');
      this.cards.clear();
      await this.transport.stop();
      await this.memory.close();
      this.liveness.markAllGone('local-stop');
      this.log.info({ event: 'mesh-stopped' }, 'mesh stopped');
    });
    return this.lifecycle;
  }

  peers(): PeerView[] {
    return this.liveness.views();
  }

  localCard(): Promise<NodeCard> {
    return this.cards.localCard();
  }

  cardChanged(): void {
    if (this.running) this.cards.changed();
  }

  setIdentity(identity: { name: string; specializations: string[] }): void {
    this.init = { ...this.init, name: identity.name, specializations: [...identity.specializations] };
    this.cardChanged();
  }

  handle(protocol: string, handler: MeshStreamHandler): void {
    this.handlers.set(protocol, handler);
    void this.transport.handle(protocol, handler);
  }

  async openStream(peerId: string, protocol: string, signal?: AbortSignal): Promise<Stream> {
    return this.requireNode().dialProtocol(peerIdFromString(peerId), protocol, {
      signal: signal ?? AbortSignal.timeout(10_000),
      // Send the protocol name with the first message instead of waiting a round trip for the
      // peer's agreement: an inference's first token arrives that much sooner. A peer that does
      // not speak the protocol resets the stream, which the caller sees on its first read.
      negotiateFully: false,
    });
  }

  async connect(address: string, signal?: AbortSignal): Promise<void> {
    await this.requireNode().dial(multiaddr(address), { signal: signal ?? AbortSignal.timeout(10_000) });
  }

  addresses(): string[] {
    return this.transport.node?.getMultiaddrs().map((a) => a.toString()) ?? [];
  }

  async removePeer(peerId: string): Promise<void> {
    const node = this.requireNode();
    const rotation = this.rotation as KeyRotationService;
    if (peerId === this.peerId) throw new CannotRemoveSelfError();
    if (this.state.outOfDate !== undefined) throw new MeshKeyOutOfDateError();
    const { removing } = this.policy;
    if (removing.size > 0) throw new KeyRotationBusyError();
    removing.add(peerId);
    try {
      // Not redialled while the rotation runs; a failed rotation leaves it known, the tick redials it.
      await this.memory.unpin(peerId);
      await node.hangUp(peerIdFromString(peerId)).catch(() => undefined);
      this.liveness.markGone(peerId, 'removed');
      await rotation.issue(peerId);
    } finally {
      removing.delete(peerId);
    }
  }

  async join(key: Uint8Array): Promise<JoinOutcome> {
    const outcome = await applyJoin(this.init.dataDir, this.init.meshKeyFile, key);
    if (outcome === 'retired') throw new RetiredJoinCodeError();
    if (outcome === 'same' || !this.running) return outcome;
    this.state = await loadMeshState(this.init.dataDir);
    this.log.info({ event: 'mesh-joined', keyId: this.state.keyId }, 'joined a home with a code');
    await this.setKey(key);
    return outcome;
  }

  async setKey(key: Uint8Array): Promise<void> {
    this.lifecycle = this.lifecycle.then(async () => {
      if (!this.running) return;
      this.meshKey = key;
      this.rotation?.reset();
      this.cards.clear();
      await this.transport.stop();
      // libp2p raises no peer:disconnect for the connections its own stop closes: every peer is
      // gone with the old host, and joins again when its card arrives on the new one.
      this.liveness.markAllGone('transport-restarted');
      // After the stop: dials of the old host that it aborted are no failures of the new key.
      this.dialer.resetFailures();
      await this.transport.start(key);
      // Every known peer is dialled on the new key, even one that left: it may be back on the old
      // key, and that dial is what tells it so (noticeIfStale).
      this.liveness.forgetLeaves();
      for (const peer of this.dialer.known) void this.dialer.dial(peer, 'transport-restarted');
      this.dialer.bootstrap(this.init.bootstrap ?? []);
      this.log.info(
        { event: 'mesh-transport-restarted', epoch: this.state.epoch, addresses: this.addresses() },
        'transport restarted',
      );
    });
    await this.lifecycle;
  }

  keyStatus(): MeshKeyStatus {
    return keyStatusOf(this.state, (peer) => this.liveness.get(peer)?.card?.name);
  }

  private requireNode() {
    const node = this.transport.node;
    if (node === undefined) throw new Error('mesh not started');
    return node;
  }

  private createRotation(): KeyRotationService {
    const mesh = this;
    return createKeyRotation({
      get self() {
        return mesh.peerId;
      },
      privateKey: this.privateKey as PrivateKey,
      log: this.log,
      state: () => this.state,
      members: () => this.members(),
      openStream: (peer, signal) => this.openStream(peer, KEY_PROTOCOL, signal),
      misbehave: (peer, reason, err) => this.policy.misbehave(peer, reason, err),
      commit: (signed, newKey) => this.commitRotation(signed, newKey),
      markOutOfDate: (notice, notifier, removed) => this.markOutOfDate(notice, notifier, removed),
      caughtUp: async (epoch, current) => {
        const { current: _previous, ...rest } = this.state;
        this.state = {
          ...rest,
          epoch,
          blocked: [...(current?.rotation.blocked ?? [])],
          ...(current !== undefined ? { current } : {}),
        };
        this.forget(this.state.blocked);
        await saveMeshState(this.init.dataDir, this.state);
      },
    });
  }

  /** Drops what we know of removed peers, on disk too, and hangs up on them. */
  private forget(blocked: readonly string[]): void {
    for (const peer of blocked) {
      this.liveness.delete(peer);
      this.dialer.known.delete(peer);
      this.memory.forget(peer);
    }
  }

  /** Members: connected and online peers with a verified card on this key, not blocked. */
  private members(): string[] {
    const node = this.transport.node;
    if (node === undefined) return [];
    return [...this.liveness.all()]
      .filter(
        (p) =>
          p.card !== undefined &&
          p.status === 'online' &&
          !this.policy.isDenied(p.id) &&
          node.getConnections(peerIdFromString(p.id)).length > 0,
      )
      .map((p) => p.id);
  }

  /** Adopts a corroborated rotation: the old key is retired, the new one written and swapped in. */
  private async commitRotation(signed: SignedKeyRotation, newKey: Uint8Array): Promise<void> {
    const old = this.meshKey as Uint8Array;
    const { rotation } = signed;
    await addRetiredKey(this.init.dataDir, { key: old, retiredBy: signed });
    this.state = {
      ...this.state,
      epoch: rotation.epoch,
      blocked: [...rotation.blocked],
      keyId: rotation.keyId,
      current: signed,
      retired: [...this.state.retired, meshKeyId(old)],
    };
    this.forget(rotation.blocked);
    // The key file first: a crash before the state is written leaves a key file the state does not
    // know, which the next start treats like a join; the other order would look like a retired key.
    await writeMeshKey(this.init.meshKeyFile, newKey);
    await saveMeshState(this.init.dataDir, this.state);
    await this.setKey(newKey);
  }

  /** The home retired our key while we were away: talk to nobody on it any more. */
  private async markOutOfDate(notice: SignedKeyRotation, notifier: string, removed: boolean): Promise<void> {
    const { rotation } = notice;
    const next: MeshState = {
      ...this.state,
      blocked: [...new Set([...this.state.blocked, ...rotation.blocked.filter((b) => b !== this.peerId)])],
      retired:
        this.state.keyId === undefined ? this.state.retired : [...this.state.retired, this.state.keyId],
      outOfDate: { removed, epoch: rotation.epoch, issuer: rotation.issuer, notifier, at: Date.now() },
    };
    // On disk first: a join asked for as soon as the status says "out of date" must see it too.
    await saveMeshState(this.init.dataDir, next);
    this.state = next;
    this.warnIfOutOfDate();
    const node = this.transport.node;
    if (node === undefined) return;
    for (const peer of new Set(node.getConnections().map((c) => c.remotePeer.toString()))) {
      this.liveness.markGone(peer, 'mesh-key-out-of-date');
      // The notifier hangs up by itself once our ack is through; every other peer is cut now.
      if (peer !== notifier) void node.hangUp(peerIdFromString(peer)).catch(() => undefined);
    }
  }

  private warnIfOutOfDate(): void {
    const status = this.keyStatus();
    if (status.state !== 'out-of-date' && status.state !== 'removed') return;
    this.log.warn({ event: 'mesh-key-out-of-date', state: status.state }, status.message);
  }

  /**
   * A known peer we cannot reach on the current key may still be on a retired one (it was away
   * during a rotation): tell it, so it stops serving as a way back in for a removed node.
   */
  private async noticeIfStale(peer: string): Promise<void> {
    if (this.notifier === undefined || this.policy.isDenied(peer) || this.state.retired.length === 0) return;
    if ((await loadRetiredKeys(this.init.dataDir)).length === 0) return;
    await this.notifier.notify(peer, await this.memory.addresses(peer));
  }

  private onTick(): void {
    const node = this.transport.node;
    if (node === undefined || !this.running) return;
    this.cards.heartbeat(++this.tick);
    const now = Date.now();
    this.liveness.tick(now);
    for (const state of this.liveness.all()) {
      const id = peerIdFromString(state.id);
      const connections = node.getConnections(id);
      if (connections.length > 0 && now - state.lastSeen > SILENT_HANGUP_MS && !state.left) {
        void node.hangUp(id).catch(() => undefined);
      } else if (connections.length > 0 && !this.cards.has(state.id)) {
        void this.cards.open(state.id);
      }
      // libp2p's connection monitor pings every connection; its RTT is the one we report.
      const rtt = connections.find((c) => c.rtt !== undefined)?.rtt;
      if (rtt !== undefined) state.rttMs = rtt;
    }
    for (const conn of node.getConnections()) {
      const peer = conn.remotePeer.toString();
      if (!this.cards.has(peer) && !this.liveness.has(peer)) void this.cards.open(peer);
    }
    // A gracefully left peer gets only libp2p's reconnect attempts; past those it comes back by
    // dialling us from its own peer store, or by discovery.
    for (const peer of this.dialer.known) {
      if (this.policy.isDenied(peer) || this.liveness.get(peer)?.left === true) continue;
      void this.dialer.dial(peer, 'tick');
    }
  }
}
