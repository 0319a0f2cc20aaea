/**
 * Shared spaces and their sync. Each space is one Automerge document; each (peer, space) pair has
 * its own Automerge sync state, and the messages Automerge generates travel as `sync-message`
 * frames of SYNC_PROTOCOL. This module owns no transport: the caller hands each connected peer a
 * `send` function and passes received messages to `receive`.
 *
 * History purge and epochs: a purge replaces the document by a fresh one holding only the current
 * memories, and bumps the space's epoch. Every `sync-message` carries the sender's epoch. A node
 * receiving a higher epoch starts a fresh document for it and fills it from that peer; once the
 * new document's header (written in the same change as its memories) arrives, it replaces the old
 * one, and this node's own memories written after the purge and missing from it are written again.
 * A node receiving a lower epoch ignores the content and answers from a fresh sync state, which
 * moves the sender forward. Old-epoch bytes are never merged into a new-epoch document.
 */
import {
  PROTOCOL_MESSAGE_TYPES,
  SYNC_PROTOCOL,
  type SyncHelloMessage,
  type SyncMessageMessage,
  type SyncRefusedMessage,
  validateMessage,
} from '@allerac/protocol';
import * as Automerge from '@automerge/automerge';
import {
  MalformedSyncMessageError,
  SpaceExistsError,
  SyncNotAllowedError,
  UnknownSpaceError,
} from './errors.js';
import { mayShareWith, type SpacePolicy, validateSpaceName } from './policy.js';
import { isReservedName, listEntries, putEntry, removeEntry, validateReservedName } from './reserved-doc.js';
import {
  createSpaceDoc,
  epochOf,
  getMemory,
  listMemories,
  loadSpaceDoc,
  purgedCopy,
  putMemory,
  removeMemory,
  type SharedMemory,
  type SpaceDoc,
  saveSpaceDoc,
} from './space-doc.js';
import type { SpaceStorage } from './storage.js';

/** A `sync-message` with the sender's history epoch (an extension field; absent means 0). */
export type EpochSyncMessage = SyncMessageMessage & {
  /** The sender's epoch of this space. */
  epoch?: number;
};

/**
 * A `sync-hello` with the memory count of each space offered (an extension field, aligned with
 * `spaces`; absent from older senders), so a receiver can show what an invitation holds.
 */
export type CountedSyncHelloMessage = SyncHelloMessage & {
  /** `memories[i]` is how many memories `spaces[i]` holds. */
  memories?: number[];
};

/** What this module sends and receives on a sync stream. */
export type SpaceSyncWireMessage = CountedSyncHelloMessage | EpochSyncMessage | SyncRefusedMessage;

/** Sends one message to a peer; the transport keeps order. */
export type SyncSend = (message: SpaceSyncWireMessage) => void;

/** What changed in a space, for the local index to follow. */
export interface SpaceChangeEvent {
  /** Space name. */
  space: string;
  /** Memories added or changed. */
  upserted: SharedMemory[];
  /** Ids of memories gone from the space. */
  removed: string[];
  /** Where the change came from: this node or the peer id. */
  origin: 'local' | string;
}

/** A reserved document changed (an entry added, replaced or removed). */
export interface EntriesChangeEvent {
  /** The reserved document's name. */
  doc: string;
  /** Where the change came from: this node or the peer id. */
  origin: 'local' | string;
}

/** A space as listed to users. */
export interface SpaceInfo {
  /** Space name. */
  name: string;
  /** History epoch. */
  epoch: number;
  /** Who may sync it. */
  policy: SpacePolicy;
  /** How many memories it holds. */
  memories: number;
}

/** A space that connected peers offer and this node does not hold: an invitation to join. */
export interface SpaceOffer {
  /** Space name. */
  name: string;
  /** Peer ids offering it, sorted. */
  peers: string[];
  /** The largest memory count the offering peers gave; undefined when none gave one. */
  memories: number | undefined;
}

/** A peer's hello changed what it offers. */
export interface OffersChangedEvent {
  /** The peer id. */
  peer: string;
  /** Spaces it offers now. */
  offered: string[];
  /** Spaces it offered before and no longer does (it left them, or its policy dropped us). */
  withdrawn: string[];
}

/** Options of SpaceSync. */
export interface SpaceSyncInit {
  /** This node's id, recorded as the author of memories it writes. */
  nodeId: string;
  /**
   * Whether an author id is this node's; default: equal to `nodeId`. A node that once wrote under
   * other ids (before its id was stable) counts those too, so their memories stay its own.
   */
  isOwn?: ((author: string) => boolean) | undefined;
}

/** Injected parts of SpaceSync. */
export interface SpaceSyncComponents {
  /** Where documents persist. */
  storage: SpaceStorage;
  /** Reports problems that are not the caller's (a peer's bad message, a failed send). */
  onWarning?: (message: string, details: Record<string, unknown>) => void;
}

interface SpaceState {
  name: string;
  epoch: number;
  policy: SpacePolicy;
  doc: SpaceDoc;
  /** A newer epoch's document being received, not yet complete. */
  pending?: { epoch: number; doc: SpaceDoc };
  /** Sync state per peer, for the epoch it was made in. */
  peers: Map<string, { epoch: number; state: Automerge.SyncState; refused: boolean }>;
  saving: Promise<void>;
}

type ChangeListener = (event: SpaceChangeEvent) => void;
type OffersListener = (event: OffersChangedEvent) => void;
type EntriesListener = (event: EntriesChangeEvent) => void;

/** Holds this node's spaces and keeps them in sync with connected peers. */
export class SpaceSync {
  private readonly spacesByName = new Map<string, SpaceState>();
  private readonly connected = new Map<string, SyncSend>();
  private readonly listeners = new Set<ChangeListener>();
  private readonly offersListeners = new Set<OffersListener>();
  private readonly entriesListeners = new Set<EntriesListener>();
  /**
   * What each connected peer's latest hello offered, with memory counts where given. Spaces offered
   * and not held here are invitations; nothing of their content is taken before one is joined
   * (their sync messages are refused as `unknown-space`).
   */
  private readonly offersByPeer = new Map<string, Map<string, number | undefined>>();
  private started: Promise<void> | undefined;

  constructor(
    private readonly init: SpaceSyncInit,
    private readonly components: SpaceSyncComponents,
  ) {}

  /** Loads the stored spaces; idempotent. */
  start(): Promise<void> {
    this.started ??= (async () => {
      for (const stored of await this.components.storage.loadAll()) {
        let doc: SpaceDoc;
        try {
          doc = loadSpaceDoc(stored.doc);
        } catch (error) {
          this.warn('a stored space document is unreadable; starting it empty', {
            space: stored.name,
            error: String(error),
          });
          doc = createSpaceDoc();
        }
        this.spacesByName.set(stored.name, {
          name: stored.name,
          epoch: stored.epoch,
          policy: stored.policy,
          doc,
          peers: new Map(),
          saving: Promise.resolve(),
        });
      }
    })();
    return this.started;
  }

  /** Waits for pending writes and disconnects every peer; idempotent. */
  async stop(): Promise<void> {
    this.connected.clear();
    await Promise.all([...this.spacesByName.values()].map((s) => s.saving));
  }

  /** Subscribes to space changes; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes to changes of what peers offer; returns the unsubscribe function. */
  onOffersChanged(listener: OffersListener): () => void {
    this.offersListeners.add(listener);
    return () => this.offersListeners.delete(listener);
  }

  /** Subscribes to changes of reserved documents; returns the unsubscribe function. */
  onEntriesChanged(listener: EntriesListener): () => void {
    this.entriesListeners.add(listener);
    return () => this.entriesListeners.delete(listener);
  }

  /**
   * Opens a reserved document (a name starting with RESERVED_DOC_PREFIX), creating it when this
   * node holds none: it syncs with every paired peer that opened it too, and is never listed,
   * offered or written as a space.
   */
  async openReserved(name: string): Promise<void> {
    validateReservedName(name);
    await this.start();
    if (this.spacesByName.has(name)) return;
    const state: SpaceState = {
      name,
      epoch: 0,
      policy: { peers: 'all' },
      doc: createSpaceDoc(),
      peers: new Map(),
      saving: Promise.resolve(),
    };
    this.spacesByName.set(name, state);
    await this.persist(state);
    for (const peer of this.connected.keys()) {
      this.sendHello(peer);
      this.syncPeer(state, peer);
    }
  }

  /** The well-formed entries of a reserved document, by key. */
  entries(name: string): Map<string, string> {
    return listEntries(this.reservedState(name).doc);
  }

  /** Writes one entry of a reserved document; resolves once stored. */
  async putEntry(name: string, key: string, value: string): Promise<void> {
    const state = this.reservedState(name);
    const before = state.doc;
    state.doc = putEntry(state.doc, key, value);
    if (state.doc === before) return;
    await this.commitEntries(state);
  }

  /** Removes one entry of a reserved document; resolves once stored. False when absent. */
  async removeEntry(name: string, key: string): Promise<boolean> {
    const state = this.reservedState(name);
    const before = state.doc;
    state.doc = removeEntry(state.doc, key);
    if (state.doc === before) return false;
    await this.commitEntries(state);
    return true;
  }

  private async commitEntries(state: SpaceState): Promise<void> {
    const saved = this.persist(state);
    this.emitEntries(state.name, 'local');
    this.broadcast(state);
    await saved;
  }

  /** Spaces that connected peers offer and this node does not hold, by name. */
  offers(): SpaceOffer[] {
    const byName = new Map<string, SpaceOffer>();
    for (const [peer, offered] of this.offersByPeer) {
      for (const [name, count] of offered) {
        if (this.spacesByName.has(name) || isReservedName(name)) continue;
        const offer = byName.get(name) ?? { name, peers: [], memories: undefined };
        offer.peers.push(peer);
        if (count !== undefined) offer.memories = Math.max(offer.memories ?? 0, count);
        byName.set(name, offer);
      }
    }
    return [...byName.values()]
      .map((o) => ({ ...o, peers: o.peers.sort() }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Every space this node holds. */
  spaces(): SpaceInfo[] {
    return [...this.spacesByName.values()]
      .filter((s) => !isReservedName(s.name))
      .map((s) => ({ name: s.name, epoch: s.epoch, policy: s.policy, memories: listMemories(s.doc).length }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** True when this node holds the space. */
  has(space: string): boolean {
    return !isReservedName(space) && this.spacesByName.has(space);
  }

  /** The memories of a space. */
  memories(space: string): SharedMemory[] {
    return listMemories(this.state(space).doc);
  }

  /** One memory of a space. */
  memory(space: string, id: string): SharedMemory | undefined {
    return getMemory(this.state(space).doc, id);
  }

  /** The saved document of a space, as stored (for inspection and tests). */
  savedDoc(space: string): Uint8Array {
    return saveSpaceDoc(this.state(space).doc);
  }

  /** Creates (joins) a space; it syncs with any connected peer the policy allows that holds it too. */
  async createSpace(name: string, policy: SpacePolicy): Promise<SpaceInfo> {
    validateSpaceName(name);
    if (this.spacesByName.has(name)) throw new SpaceExistsError(name);
    const state: SpaceState = {
      name,
      epoch: 0,
      policy,
      doc: createSpaceDoc(),
      peers: new Map(),
      saving: Promise.resolve(),
    };
    this.spacesByName.set(name, state);
    await this.persist(state);
    for (const peer of this.connected.keys()) {
      this.sendHello(peer);
      this.syncPeer(state, peer);
    }
    return { name, epoch: 0, policy, memories: 0 };
  }

  /** Changes who may sync a space; peers no longer allowed stop receiving it at once. */
  async setPolicy(name: string, policy: SpacePolicy): Promise<void> {
    const state = this.state(name);
    state.policy = policy;
    for (const peer of [...state.peers.keys()]) if (!mayShareWith(policy, peer)) state.peers.delete(peer);
    await this.persist(state);
    // Peers newly named see the space offered; peers no longer named see the offer withdrawn.
    for (const peer of this.connected.keys()) {
      this.sendHello(peer);
      this.syncPeer(state, peer);
    }
  }

  /** Leaves a space: forgets the document here and tells peers; returns the ids of the memories it held. */
  async leaveSpace(name: string): Promise<string[]> {
    const state = this.state(name);
    const ids = listMemories(state.doc).map((m) => m.id);
    this.spacesByName.delete(name);
    await state.saving;
    await this.components.storage.remove(name);
    for (const [peer, send] of this.connected) {
      if (state.peers.has(peer))
        this.safeSend(peer, send, { type: 'sync-refused', space: name, reason: 'left' });
      // The offer is withdrawn: the peer's invitation to this space goes away.
      this.sendHello(peer);
    }
    this.emit({ space: name, upserted: [], removed: ids, origin: 'local' });
    return ids;
  }

  /** Adds or updates a memory in a space; resolves once the document is durably stored. */
  async put(
    space: string,
    memory: Omit<SharedMemory, 'author'> & { author?: string },
  ): Promise<SharedMemory> {
    const state = this.state(space);
    const existing = getMemory(state.doc, memory.id);
    const full: SharedMemory = { ...memory, author: existing?.author ?? memory.author ?? this.init.nodeId };
    state.doc = putMemory(state.doc, full);
    const saved = this.persist(state);
    this.emit({ space, upserted: [full], removed: [], origin: 'local' });
    this.broadcast(state);
    await saved;
    return full;
  }

  /** Removes a memory from a space (unshare or delete); resolves once stored. False when absent. */
  async remove(space: string, id: string): Promise<boolean> {
    const state = this.state(space);
    if (getMemory(state.doc, id) === undefined) return false;
    state.doc = removeMemory(state.doc, id);
    const saved = this.persist(state);
    this.emit({ space, upserted: [], removed: [id], origin: 'local' });
    this.broadcast(state);
    await saved;
    return true;
  }

  /** Rewrites a space without its history, at the next epoch; peers replace their copies. */
  async purgeHistory(space: string): Promise<SpaceInfo> {
    const state = this.state(space);
    const epoch = Math.max(state.epoch, state.pending?.epoch ?? 0) + 1;
    state.doc = purgedCopy(state.doc, epoch);
    state.epoch = epoch;
    delete state.pending;
    state.peers.clear();
    await this.persist(state);
    this.broadcast(state);
    return { name: space, epoch, policy: state.policy, memories: listMemories(state.doc).length };
  }

  /** A peer connected: offer it every space its id may sync, and start syncing them. */
  addPeer(peer: string, send: SyncSend): void {
    this.connected.set(peer, send);
    for (const state of this.spacesByName.values()) state.peers.delete(peer);
    this.sendHello(peer);
    for (const state of this.spacesByName.values()) this.syncPeer(state, peer);
  }

  /** A peer disconnected: its sync states are dropped (a reconnect starts fresh ones). */
  removePeer(peer: string): void {
    this.connected.delete(peer);
    // Not a withdrawal: the peer offers the same again when it is back.
    this.offersByPeer.delete(peer);
    for (const state of this.spacesByName.values()) state.peers.delete(peer);
  }

  /**
   * Handles one message from a peer. Anything malformed or not allowed throws a typed error
   * (after answering `sync-refused` where the protocol calls for it) and changes nothing.
   */
  async receive(peer: string, value: unknown): Promise<void> {
    let message: SpaceSyncWireMessage;
    try {
      message = validateMessage(value, PROTOCOL_MESSAGE_TYPES[SYNC_PROTOCOL]) as SpaceSyncWireMessage;
    } catch (error) {
      throw new MalformedSyncMessageError(`invalid sync message: ${(error as Error).message}`, {
        cause: error,
      });
    }
    switch (message.type) {
      case 'sync-hello':
        this.noteOffers(peer, message);
        for (const name of message.spaces) {
          const state = this.spacesByName.get(name);
          if (state === undefined) continue;
          // The peer holds the space now: forget an earlier refusal and start afresh.
          if (state.peers.get(peer)?.refused === true) state.peers.delete(peer);
          this.syncPeer(state, peer);
        }
        return;
      case 'sync-refused': {
        const state = this.spacesByName.get(message.space);
        const entry = state?.peers.get(peer);
        if (entry !== undefined) entry.refused = true;
        else if (state !== undefined)
          state.peers.set(peer, { epoch: state.epoch, state: Automerge.initSyncState(), refused: true });
        return;
      }
      case 'sync-message':
        return this.receiveSync(peer, message);
    }
  }

  private async receiveSync(peer: string, message: EpochSyncMessage): Promise<void> {
    const epoch = message.epoch ?? 0;
    if (!Number.isSafeInteger(epoch) || epoch < 0)
      throw new MalformedSyncMessageError('epoch must be a non-negative integer');
    // A reserved document is never purged: a peer claiming a newer epoch would replace it whole.
    if (epoch !== 0 && isReservedName(message.space))
      throw new MalformedSyncMessageError(`reserved document "${message.space}" has no epochs`);
    const state = this.spacesByName.get(message.space);
    const send = this.connected.get(peer);
    if (state === undefined) {
      if (send !== undefined)
        this.safeSend(peer, send, { type: 'sync-refused', space: message.space, reason: 'unknown-space' });
      throw new UnknownSpaceError(message.space);
    }
    if (!mayShareWith(state.policy, peer)) {
      if (send !== undefined)
        this.safeSend(peer, send, { type: 'sync-refused', space: message.space, reason: 'not-allowed' });
      throw new SyncNotAllowedError(message.space, peer);
    }
    const bytes = Buffer.from(message.data, 'base64');
    const syncMessage = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      Automerge.decodeSyncMessage(syncMessage);
    } catch (error) {
      throw new MalformedSyncMessageError(
        `undecodable Automerge sync message for "${state.name}": ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const current = Math.max(state.epoch, state.pending?.epoch ?? 0);
    if (epoch < current) {
      // The sender is behind a purge: answer from a fresh state so it moves to our epoch.
      state.peers.delete(peer);
      this.syncPeer(state, peer);
      return;
    }
    if (epoch > current) state.pending = { epoch, doc: createSpaceDoc() };
    const target = state.pending !== undefined && state.pending.epoch === epoch ? 'pending' : 'doc';
    const entry = this.peerEntry(state, peer, epoch);
    const before = target === 'pending' ? state.pending!.doc : state.doc;
    // Read everything needed from `before` now: receiving moves the document on and outdates it.
    const headsBefore = Automerge.getHeads(before).join();
    const memoriesBefore = target === 'doc' ? listMemories(before) : [];
    let after: SpaceDoc;
    let nextSyncState: Automerge.SyncState;
    try {
      [after, nextSyncState] = Automerge.receiveSyncMessage(before, entry.state, syncMessage);
    } catch (error) {
      throw new MalformedSyncMessageError(
        `undecodable Automerge sync message for "${state.name}": ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    entry.state = nextSyncState;
    entry.refused = false;
    if (target === 'pending') {
      state.pending!.doc = after;
      if (epochOf(after) === epoch) this.adopt(state, peer);
    } else {
      state.doc = after;
    }
    if (target === 'doc' && Automerge.getHeads(after).join() !== headsBefore) {
      if (isReservedName(state.name)) this.emitEntries(state.name, peer);
      else this.emitDiff(state.name, memoriesBefore, after, peer);
      void this.persist(state);
      for (const other of this.connected.keys()) if (other !== peer) this.syncPeer(state, other);
    }
    this.syncPeer(state, peer);
    await state.saving;
  }

  /** Records what a peer offers; counts that are not aligned non-negative integers are ignored. */
  private noteOffers(peer: string, hello: CountedSyncHelloMessage): void {
    const counts =
      Array.isArray(hello.memories) &&
      hello.memories.length === hello.spaces.length &&
      hello.memories.every((n) => Number.isSafeInteger(n) && n >= 0)
        ? hello.memories
        : undefined;
    const previous = this.offersByPeer.get(peer);
    const offered = new Map(hello.spaces.map((name, i) => [name, counts?.[i]] as const));
    this.offersByPeer.set(peer, offered);
    const withdrawn = [...(previous?.keys() ?? [])].filter((name) => !offered.has(name));
    const event: OffersChangedEvent = { peer, offered: [...offered.keys()], withdrawn };
    for (const listener of this.offersListeners) {
      try {
        listener(event);
      } catch (error) {
        this.warn('an offers listener failed', { peer, error: String(error) });
      }
    }
  }

  /** Moves a space to its completed pending epoch, keeping our own post-purge writes. */
  private adopt(state: SpaceState, from: string): void {
    const pending = state.pending!;
    const old = listMemories(state.doc);
    let doc = pending.doc;
    const purgedAt = typeof doc.purgedAt === 'number' ? doc.purgedAt : 0;
    for (const memory of old) {
      if (
        (this.init.isOwn?.(memory.author) ?? memory.author === this.init.nodeId) &&
        memory.updatedAt >= purgedAt &&
        getMemory(doc, memory.id) === undefined
      ) {
        doc = putMemory(doc, memory);
      }
    }
    state.doc = doc;
    state.epoch = pending.epoch;
    delete state.pending;
    for (const [peer, entry] of state.peers) if (entry.epoch !== state.epoch) state.peers.delete(peer);
    this.emitDiff(state.name, old, doc, from);
    void this.persist(state);
    for (const other of this.connected.keys()) if (other !== from) this.syncPeer(state, other);
  }

  private peerEntry(state: SpaceState, peer: string, epoch: number) {
    let entry = state.peers.get(peer);
    if (entry === undefined || entry.epoch !== epoch) {
      entry = { epoch, state: Automerge.initSyncState(), refused: false };
      state.peers.set(peer, entry);
    }
    return entry;
  }

  /** Sends whatever Automerge says `peer` still needs of this space, if the policy allows. */
  private syncPeer(state: SpaceState, peer: string): void {
    const send = this.connected.get(peer);
    if (send === undefined || !mayShareWith(state.policy, peer)) return;
    if (!this.spacesByName.has(state.name)) return;
    const usePending = state.pending !== undefined && state.peers.get(peer)?.epoch === state.pending.epoch;
    const epoch = usePending ? state.pending!.epoch : state.epoch;
    const doc = usePending ? state.pending!.doc : state.doc;
    const entry = this.peerEntry(state, peer, epoch);
    if (entry.refused) return;
    const [next, bytes] = Automerge.generateSyncMessage(doc, entry.state);
    entry.state = next;
    if (bytes === null) return;
    const message: EpochSyncMessage = {
      type: 'sync-message',
      space: state.name,
      data: Buffer.from(bytes).toString('base64'),
    };
    if (epoch > 0) message.epoch = epoch;
    this.safeSend(peer, send, message);
  }

  private broadcast(state: SpaceState): void {
    for (const peer of this.connected.keys()) this.syncPeer(state, peer);
  }

  private sendHello(peer: string): void {
    const send = this.connected.get(peer);
    if (send === undefined) return;
    const offered = [...this.spacesByName.values()].filter((s) => mayShareWith(s.policy, peer));
    this.safeSend(peer, send, {
      type: 'sync-hello',
      spaces: offered.map((s) => s.name),
      memories: offered.map((s) => listMemories(s.doc).length),
    });
  }

  private safeSend(peer: string, send: SyncSend, message: SpaceSyncWireMessage): void {
    try {
      send(message);
    } catch (error) {
      this.warn('sending a sync message failed', { peer, error: String(error) });
    }
  }

  private persist(state: SpaceState): Promise<void> {
    state.saving = state.saving
      .catch(() => {})
      .then(async () => {
        if (this.spacesByName.get(state.name) !== state) return;
        await this.components.storage.save({
          name: state.name,
          epoch: state.epoch,
          policy: state.policy,
          doc: saveSpaceDoc(state.doc),
        });
      });
    return state.saving;
  }

  private emitDiff(space: string, before: SharedMemory[], after: SpaceDoc, origin: string): void {
    const old = new Map(before.map((m) => [m.id, m]));
    const upserted: SharedMemory[] = [];
    for (const memory of listMemories(after)) {
      const previous = old.get(memory.id);
      old.delete(memory.id);
      if (
        previous === undefined ||
        previous.text !== memory.text ||
        previous.updatedAt !== memory.updatedAt ||
        previous.tags.join('\u0000') !== memory.tags.join('\u0000')
      ) {
        upserted.push(memory);
      }
    }
    if (upserted.length > 0 || old.size > 0) this.emit({ space, upserted, removed: [...old.keys()], origin });
  }

  private emit(event: SpaceChangeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.warn('a space change listener failed', { space: event.space, error: String(error) });
      }
    }
  }

  private emitEntries(doc: string, origin: string): void {
    for (const listener of this.entriesListeners) {
      try {
        listener({ doc, origin });
      } catch (error) {
        this.warn('an entries listener failed', { doc, error: String(error) });
      }
    }
  }

  /** A user's space; a reserved document is not one. */
  private state(space: string): SpaceState {
    const state = isReservedName(space) ? undefined : this.spacesByName.get(space);
    if (state === undefined) throw new UnknownSpaceError(space);
    return state;
  }

  private reservedState(name: string): SpaceState {
    const state = isReservedName(name) ? this.spacesByName.get(name) : undefined;
    if (state === undefined) throw new UnknownSpaceError(name);
    return state;
  }

  private warn(message: string, details: Record<string, unknown>): void {
    this.components.onWarning?.(message, details);
  }
}
