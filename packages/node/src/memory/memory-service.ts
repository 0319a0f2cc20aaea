/**
 * The node's memories: private ones live only in the local pgvector table; shared ones live in a
 * space's Automerge document (memory-sync) and are mirrored into the same table, embedded here
 * with this node's own model. Vectors never leave the node.
 */
import { randomUUID } from 'node:crypto';
import {
  InvalidSpaceInputError,
  MAX_MEMORY_TEXT_BYTES,
  type MemorySource,
  type SharedMemory,
  type SpaceChangeEvent,
  type SpaceInfo,
  type SpaceOffer,
  type SpacePolicy,
  SpaceSync,
  UnknownSpaceError,
  validateTags,
} from '@allerac/memory-sync';
import type { Logger } from 'pino';
import type { Principal } from '../auth/api-tokens.js';
import type { InferenceGateway } from '../inference/gateway.js';
import type { MemoryFilter, MemoryHit, MemoryPage, MemoryRecord } from '../store/memory-repository.js';
import { readSetting, writeSetting } from '../store/settings-keys.js';
import type { Store } from '../store/store.js';
import {
  CHAT_LOOKUP_BUDGET_MS,
  DEFAULT_CHAT_SETTINGS,
  DEFAULT_SEARCH_K,
  EMBED_BATCH,
  EMBED_RETRY_MS,
  EMBED_TIMEOUT_MS,
  EXACT_MATCH_BOOST,
  MAX_SEARCH_K,
  REMOTE_EMBED_BATCH,
  SETTINGS,
} from './constants.js';
import { embedTexts, pickEmbeddingModel } from './embedder.js';
import { MemoryNotFoundError, MemoryNotYoursError, MemoryStateError, MemoryTooLargeError } from './errors.js';
import { SpaceInvitations } from './space-invitations.js';

/** A new memory. */
export interface NewMemory {
  text: string;
  tags?: string[] | undefined;
  /** A space to put it in at once; absent or null means private. */
  space?: string | null | undefined;
  source?: MemorySource | undefined;
  /** The member account writing it; see MemoryRecord.owner. */
  owner?: string | null | undefined;
}

/**
 * Whose view a call takes. A member (`member` set to its owner key) sees shared memories and its
 * own private ones, and changes only its own; without one, the call is an admin's or the node's.
 */
export interface MemoryAccess {
  member?: string | undefined;
}

/** The owner key of a member principal: memories it writes carry it, and it sees only those privately. */
export function memberKeyOf(principal: Principal | undefined): string | undefined {
  if (principal?.role !== 'member' || principal.id === undefined) return undefined;
  return `${principal.kind === 'session' ? 'user' : 'token'}:${principal.id}`;
}

/** The view a principal takes of the memories. */
export const accessFor = (principal: Principal | undefined): MemoryAccess => ({
  member: memberKeyOf(principal),
});

/** A search request. */
export interface MemoryQuery extends MemoryFilter {
  query: string;
  k?: number | undefined;
  threshold?: number | undefined;
}

/** Memory-aware chat settings. */
export interface ChatMemorySettings {
  enabled: boolean;
  k: number;
  threshold: number;
}

/** Where the embedding index stands. */
export interface EmbeddingStatus {
  /** The model the user chose (or the one picked automatically). */
  model: string;
  /** The model search uses now; differs from `model` while re-embedding. */
  active: string;
  /** True while a background (re-)embedding pass runs. */
  reembedding: boolean;
  /** Memories per embedding model ('' = not embedded yet). */
  counts: Record<string, number>;
}

/** Options of the memory service. */
export interface MemoryServiceInit {
  /** This node's id, recorded as the author of its memories: its libp2p peer id, stable across renames. */
  nodeId: string;
  /**
   * Names this node may have authored memories under before its author id was its peer id (its
   * start-up name, the name chosen in Settings). start() migrates the memories naming them once.
   */
  legacyNames?: readonly string[] | undefined;
  /** The most a chat's memory lookup may take; default CHAT_LOOKUP_BUDGET_MS. */
  chatLookupBudgetMs?: number | undefined;
}

/** Injected parts of the memory service. */
export interface MemoryServiceComponents {
  store: Store;
  gateway: InferenceGateway;
  spaces: SpaceSync;
  logger: Logger;
}

const utf8 = new TextEncoder();

/** Local and shared memories, search and the embedding index. */
export class MemoryService {
  private started: Promise<void> | undefined;
  private stopped = false;
  private target = '';
  private active = '';
  private chat: ChatMemorySettings = { ...DEFAULT_CHAT_SETTINGS };
  /** Roughly how many memories are indexed; 0 lets chats skip the search entirely. */
  private indexed = 0;
  private embedding: Promise<void> | undefined;
  private embedAgain = false;
  /** True while the re-embedded vectors are being swapped in. */
  private promoting = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Index updates from peers, applied one after another. */
  private remoteQueue: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  /** Aborted by stop(): background embedding calls end with the service. */
  private readonly lifetime = new AbortController();
  /**
   * The vector indexes known to exist, per embedding model and dimension: the index statement
   * runs when either changes, not on every query.
   */
  private readonly indexes = new Map<string, Promise<void>>();
  private readonly invitations: SpaceInvitations;
  /** The names recorded by the author migration: memories naming them are this node's own. */
  private formerAuthors: ReadonlySet<string> = new Set();

  constructor(
    private readonly init: MemoryServiceInit,
    private readonly components: MemoryServiceComponents,
  ) {
    this.invitations = new SpaceInvitations(components.spaces, components.store, components.logger);
  }

  /** This node's author id. */
  get nodeId(): string {
    return this.init.nodeId;
  }

  /**
   * Whether `author` is this node: its peer id, or a name it wrote under before the peer id was
   * its author id. Shared documents keep those names (peers hold them too); they are not rewritten.
   */
  isOwnAuthor(author: string): boolean {
    return author === this.init.nodeId || this.formerAuthors.has(author);
  }

  /** The shared spaces. */
  get spaces(): SpaceSync {
    return this.components.spaces;
  }

  /** Loads settings and spaces, brings the index in line with the space documents; idempotent. */
  start(): Promise<void> {
    this.started ??= (async () => {
      const { settings, memories } = this.components.store;
      await this.migrateAuthors();
      await this.components.spaces.start();
      await this.invitations.start();
      this.target =
        (await readSetting(settings, SETTINGS.embeddingModel)) ??
        (await pickEmbeddingModel(this.components.gateway));
      this.active = (await readSetting(settings, SETTINGS.activeEmbeddingModel)) ?? this.target;
      await writeSetting(settings, SETTINGS.activeEmbeddingModel, this.active);
      this.chat = {
        enabled: await readSetting(settings, SETTINGS.chatEnabled),
        k: await readSetting(settings, SETTINGS.chatK),
        threshold: await readSetting(settings, SETTINGS.chatThreshold),
      };
      this.unsubscribe = this.components.spaces.onChange((event) => this.onSpaceChange(event));
      for (const space of this.components.spaces.spaces()) await this.reconcile(space.name);
      this.indexed = await memories.count();
      this.kickEmbedding();
    })();
    return this.started;
  }

  /**
   * Once: records which legacy names this store's memories carry as author (the names the node
   * went by before its author id was its peer id); later, a previous peer id too. Every start then
   * gives the rows naming them the peer id, which is idempotent and also covers a crash between
   * recording and rewriting.
   */
  private async migrateAuthors(): Promise<void> {
    const { settings, memories } = this.components.store;
    let former = await readSetting(settings, SETTINGS.formerAuthors);
    if (former === undefined) {
      const stored = await readSetting(settings, 'agent.name');
      const candidates = [
        ...new Set([...(this.init.legacyNames ?? []), ...(stored === undefined ? [] : [stored])]),
      ].filter((name) => name !== this.init.nodeId);
      former = await memories.authorsAmong(candidates);
      await writeSetting(settings, SETTINGS.formerAuthors, former);
      if (former.length > 0) {
        this.components.logger.info(
          { event: 'memory-authors-migrated', formerAuthors: former },
          "this node's memories now name its peer id as author",
        );
      }
    }
    // A restore onto another machine (or a lost peer-key) brings memories under the old peer id.
    const previousId = await readSetting(settings, SETTINGS.authorId);
    if (previousId !== undefined && previousId !== this.init.nodeId && !former.includes(previousId)) {
      former = [...former, previousId];
      await writeSetting(settings, SETTINGS.formerAuthors, former);
      this.components.logger.info(
        { event: 'memory-author-id-changed', previous: previousId },
        "this node's peer id changed; memories under the previous one stay its own",
      );
    }
    if (previousId !== this.init.nodeId) await writeSetting(settings, SETTINGS.authorId, this.init.nodeId);
    this.formerAuthors = new Set(former);
    await memories.reauthor(former, this.init.nodeId);
  }

  /** Stops background work and waits for it; idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.lifetime.abort(new Error('the memory service stopped'));
    this.unsubscribe?.();
    clearTimeout(this.retryTimer);
    await this.remoteQueue.catch(() => {});
    await this.embedding?.catch(() => {});
    await this.invitations.stop();
    await this.components.spaces.stop();
  }

  /** Adds a memory; resolves once it is durably stored (and, when shared, in the space document). */
  async add(input: NewMemory): Promise<MemoryRecord> {
    const text = checkText(input.text);
    const tags = checkTags(input.tags);
    const space = input.space ?? null;
    if (space !== null && !this.components.spaces.has(space)) throw new UnknownSpaceError(space);
    const now = new Date();
    const id = randomUUID();
    const source = input.source ?? 'user';
    // The space document first: on a crash in between, start-up re-indexes it from there.
    if (space !== null) {
      await this.components.spaces.put(space, {
        id,
        text,
        tags,
        source,
        author: this.init.nodeId,
        createdAt: now.getTime(),
        updatedAt: now.getTime(),
      });
    }
    const embedding = await this.tryEmbed(text);
    await this.components.store.memories.upsert({
      id,
      text,
      tags,
      source,
      authorNode: this.init.nodeId,
      space,
      createdAt: now,
      updatedAt: now,
      embedding,
      owner: input.owner ?? null,
    });
    this.indexed++;
    if (embedding === null || this.active !== this.target) this.kickEmbedding();
    return (await this.components.store.memories.get(id))!;
  }

  /** One memory; another person's private memory is, to a member, one that does not exist. */
  async get(id: string, access: MemoryAccess = {}): Promise<MemoryRecord> {
    // No stored id holds NUL, and PostgreSQL refuses it even in a lookup.
    if (id.includes(NUL)) throw new MemoryNotFoundError(id);
    const memory = await this.components.store.memories.get(id);
    if (memory === undefined) throw new MemoryNotFoundError(id);
    if (access.member !== undefined && memory.space === null && memory.owner !== access.member) {
      throw new MemoryNotFoundError(id);
    }
    return memory;
  }

  /** A memory the caller may change: a member changes only what it wrote. */
  private async getOwn(id: string, access: MemoryAccess): Promise<MemoryRecord> {
    const memory = await this.get(id, access);
    if (access.member !== undefined && memory.owner !== access.member) throw new MemoryNotYoursError(id);
    return memory;
  }

  /** A page of memories, newest first. */
  async list(
    filter: MemoryFilter,
    limit: number,
    cursor?: string,
    access: MemoryAccess = {},
  ): Promise<MemoryPage> {
    checkFilter(filter);
    if (cursor !== undefined) checkNoNul(cursor, 'cursor');
    return this.components.store.memories.list({ ...filter, visibleTo: access.member }, limit, cursor);
  }

  /** Changes a memory's text and/or tags; a shared one changes in its space for every peer. */
  async update(
    id: string,
    change: { text?: string | undefined; tags?: string[] | undefined },
    access: MemoryAccess = {},
  ): Promise<MemoryRecord> {
    const current = await this.getOwn(id, access);
    const text = change.text === undefined ? undefined : checkText(change.text);
    const tags = change.tags === undefined ? undefined : checkTags(change.tags);
    if (current.space !== null) {
      await this.components.spaces.put(current.space, {
        id,
        text: text ?? current.text,
        tags: tags ?? current.tags,
        source: current.source as MemorySource,
        author: current.authorNode,
        createdAt: current.createdAt.getTime(),
        updatedAt: Date.now(),
      });
    }
    const embedding = text !== undefined && text !== current.text ? await this.tryEmbed(text) : undefined;
    const updated = await this.components.store.memories.update(id, {
      ...(text !== undefined ? { text } : {}),
      ...(tags !== undefined ? { tags } : {}),
      ...(embedding !== undefined ? { embedding } : {}),
    });
    if (updated === undefined) throw new MemoryNotFoundError(id);
    if (embedding === null) this.kickEmbedding();
    return updated;
  }

  /** Deletes a memory; a shared one is removed from its space on every peer. */
  async delete(id: string, access: MemoryAccess = {}): Promise<void> {
    const current = await this.getOwn(id, access);
    if (current.space !== null && this.components.spaces.has(current.space)) {
      await this.components.spaces.remove(current.space, id);
    }
    await this.components.store.memories.delete(id);
    this.indexed = Math.max(0, this.indexed - 1);
  }

  /** Moves a private memory into a space. */
  async share(id: string, space: string, access: MemoryAccess = {}): Promise<MemoryRecord> {
    const current = await this.getOwn(id, access);
    if (!this.components.spaces.has(space)) throw new UnknownSpaceError(space);
    if (current.space === space) return current;
    if (current.space !== null) {
      throw new MemoryStateError(`memory ${id} is in space "${current.space}"; unshare it first`);
    }
    await this.components.spaces.put(space, {
      id,
      text: current.text,
      tags: current.tags,
      source: current.source as MemorySource,
      author: current.authorNode,
      createdAt: current.createdAt.getTime(),
      updatedAt: Date.now(),
    });
    await this.components.store.memories.setSpace(id, space);
    return this.get(id);
  }

  /** Takes a memory out of its space: every peer drops it; here it becomes private again. */
  async unshare(id: string, access: MemoryAccess = {}): Promise<MemoryRecord> {
    const current = await this.getOwn(id, access);
    if (current.space === null) return current;
    if (this.components.spaces.has(current.space)) await this.components.spaces.remove(current.space, id);
    await this.components.store.memories.setSpace(id, null);
    return this.get(id);
  }

  /**
   * Vector search with filters, threshold and exact-match boost. `signal` ends the search early
   * (the caller left, or its budget is spent); by default it may take EMBED_TIMEOUT_MS.
   */
  async search(
    query: MemoryQuery,
    access: MemoryAccess = {},
    signal: AbortSignal = this.backgroundSignal(),
  ): Promise<MemoryHit[]> {
    const text = query.query;
    if (typeof text !== 'string' || text.trim() === '')
      throw new InvalidSpaceInputError('query must be a non-empty string');
    if (utf8.encode(text).length > MAX_MEMORY_TEXT_BYTES) {
      throw new MemoryTooLargeError(`query is longer than ${MAX_MEMORY_TEXT_BYTES} bytes`);
    }
    checkNoNul(text, 'query');
    checkFilter(query);
    if (query.threshold !== undefined && !Number.isFinite(query.threshold)) {
      throw new InvalidSpaceInputError('threshold must be a finite number');
    }
    const k = Math.min(Math.max(1, Math.trunc(query.k ?? DEFAULT_SEARCH_K)), MAX_SEARCH_K);
    for (let attempt = 0; ; attempt++) {
      const model = this.active;
      const [vector] = await embedTexts(this.components.gateway, model, [text], signal);
      await this.ensureIndex(model, vector!.length);
      signal.throwIfAborted();
      const hits = await this.components.store.memories.search({
        ...query,
        visibleTo: access.member,
        vector: vector!,
        model,
        text,
        k,
        threshold: query.threshold,
        exactBoost: EXACT_MATCH_BOOST,
      });
      // The index may have switched models between embedding the query and searching: once more.
      if (hits.length > 0 || attempt > 0) return hits;
      if (model === this.active && !this.promoting) return hits;
      await this.embeddingIdle(10_000, signal);
      signal.throwIfAborted();
    }
  }

  /**
   * Memories for a chat, or [] when memory-aware chat is off or nothing is indexed. Never throws.
   * `pool` asks for up to that many, for a caller that picks its k per serving node. The lookup
   * stops when `signal` aborts (the client left) or its budget is spent, and the chat goes on
   * without memories: they must never hold up an answer for long.
   */
  async forChat(
    question: string,
    access: MemoryAccess = {},
    pool = 0,
    signal?: AbortSignal,
  ): Promise<MemoryHit[]> {
    if (!this.chat.enabled || this.indexed === 0 || question.trim() === '') return [];
    const budgetMs = this.init.chatLookupBudgetMs ?? CHAT_LOOKUP_BUDGET_MS;
    const budget = AbortSignal.timeout(budgetMs);
    const lookup = signal === undefined ? budget : AbortSignal.any([signal, budget]);
    try {
      return await this.search(
        {
          query: question.slice(0, 4_000),
          // More than k when the caller picks among them per serving node (chat-memory.ts).
          k: Math.max(this.chat.k, pool),
          threshold: this.chat.threshold,
        },
        access,
        lookup,
      );
    } catch (error) {
      if (signal?.aborted === true) {
        this.components.logger.debug('memory lookup for a chat stopped: the client went away');
      } else if (budget.aborted) {
        this.components.logger.warn(
          { budgetMs, model: this.active },
          'memory lookup for a chat took longer than its budget; answering without memories',
        );
      } else {
        this.components.logger.warn(
          { err: error },
          'memory lookup for a chat failed; answering without memories',
        );
      }
      return [];
    }
  }

  /** Memory-aware chat settings. */
  chatSettings(): ChatMemorySettings {
    return { ...this.chat };
  }

  /** Changes memory-aware chat settings. */
  async setChatSettings(change: Partial<ChatMemorySettings>): Promise<ChatMemorySettings> {
    const next = { ...this.chat, ...change };
    if (typeof next.enabled !== 'boolean') throw new InvalidSpaceInputError('enabled must be a boolean');
    if (!Number.isInteger(next.k) || next.k < 1 || next.k > 20)
      throw new InvalidSpaceInputError('k must be 1 to 20');
    if (typeof next.threshold !== 'number' || next.threshold < -1 || next.threshold > 2) {
      throw new InvalidSpaceInputError('threshold must be a number between -1 and 2');
    }
    const { settings } = this.components.store;
    await writeSetting(settings, SETTINGS.chatEnabled, next.enabled);
    await writeSetting(settings, SETTINGS.chatK, next.k);
    await writeSetting(settings, SETTINGS.chatThreshold, next.threshold);
    this.chat = next;
    return { ...next };
  }

  /** Where the embedding index stands. */
  async embeddingStatus(): Promise<EmbeddingStatus> {
    return {
      model: this.target,
      active: this.active,
      reembedding: this.embedding !== undefined,
      counts: await this.components.store.memories.countByModel(),
    };
  }

  /** Chooses another embedding model: everything is re-embedded in the background, search keeps working meanwhile. */
  async setEmbeddingModel(model: string): Promise<EmbeddingStatus> {
    if (typeof model !== 'string' || model.trim() === '' || model.length > 256 || model.includes(NUL)) {
      throw new InvalidSpaceInputError('model must be a non-empty model name');
    }
    checkJsonStorable(model, 'model');
    this.target = model;
    await writeSetting(this.components.store.settings, SETTINGS.embeddingModel, model);
    if (this.indexed === 0 && (await this.components.store.memories.count()) === 0) {
      this.active = model;
      await writeSetting(this.components.store.settings, SETTINGS.activeEmbeddingModel, model);
    }
    this.kickEmbedding();
    return this.embeddingStatus();
  }

  /** Resolves once no background embedding pass is running (bounded by `timeoutMs` and `signal`). */
  async embeddingIdle(timeoutMs = 60_000, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.embedding !== undefined && Date.now() < deadline && signal?.aborted !== true) {
      await Promise.race([this.embedding.catch(() => {}), new Promise((r) => setTimeout(r, 100))]);
    }
  }

  /** Resolves once index updates from peers have been applied. */
  async remoteIdle(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const current = this.remoteQueue;
      await current.catch(() => {});
      if (current === this.remoteQueue) return;
    }
  }

  /** Every space this node holds. */
  listSpaces(): SpaceInfo[] {
    return this.components.spaces.spaces();
  }

  /** Creates (joins) a space. */
  async createSpace(name: string, policy: SpacePolicy): Promise<SpaceInfo> {
    checkNoNul(name, 'space name');
    if (policy.peers !== 'all')
      for (const peer of policy.peers) {
        checkNoNul(peer, 'a peer id');
        checkJsonStorable(peer, 'a peer id');
      }
    return this.components.spaces.createSpace(name, policy);
  }

  /** Spaces that peers offer to this node, neither held nor declined. */
  listInvitations(): SpaceOffer[] {
    return this.invitations.list();
  }

  /**
   * Joins a space a peer offers: it syncs from then on, with the offering peers only (this node
   * cannot know who else the offerer shares it with, and "all" could reach further than it does).
   */
  async acceptInvitation(name: string): Promise<SpaceInfo> {
    const offer = this.invitations.offer(name);
    const joined = await this.createSpace(name, { peers: offer.peers });
    await this.invitations.joined(name);
    return joined;
  }

  /** Hides an invitation until a peer offers the space anew. */
  declineInvitation(name: string): Promise<void> {
    return this.invitations.decline(name);
  }

  /** Leaves a space: others' memories of it are dropped here; this node's own stay, as private. */
  async leaveSpace(name: string): Promise<void> {
    await this.components.spaces.leaveSpace(name);
    await this.remoteIdle();
    const { memories } = this.components.store;
    for (const id of await memories.idsInSpace(name)) {
      const memory = await memories.get(id);
      if (memory !== undefined && this.isOwnAuthor(memory.authorNode)) await memories.setSpace(id, null);
      else await memories.delete(id);
    }
    this.indexed = await memories.count();
  }

  /** Rewrites a space's document without its history; peers replace theirs. */
  purgeHistory(name: string): Promise<SpaceInfo> {
    return this.components.spaces.purgeHistory(name);
  }

  private onSpaceChange(event: SpaceChangeEvent): void {
    if (event.origin === 'local') return;
    this.remoteQueue = this.remoteQueue
      .then(() => this.applyRemote(event.space, event.upserted, event.removed))
      .catch((error: unknown) => {
        this.components.logger.error({ err: error, space: event.space }, 'indexing a space change failed');
      });
  }

  private async applyRemote(space: string, upserted: SharedMemory[], removed: string[]): Promise<void> {
    const { memories } = this.components.store;
    const existing = await memories.getMany([...removed, ...upserted.map((m) => m.id)]);
    for (const id of removed) {
      if (existing.get(id)?.space === space) await memories.delete(id);
    }
    const fresh: SharedMemory[] = [];
    for (const memory of upserted) {
      const row = existing.get(memory.id);
      if (row !== undefined && row.text === memory.text && row.embeddingModel !== null) {
        if (row.space !== space || row.tags.join('\u0000') !== memory.tags.join('\u0000')) {
          await memories.update(memory.id, { tags: memory.tags });
          await memories.setSpace(memory.id, space);
        }
        continue;
      }
      fresh.push(memory);
    }
    for (let i = 0; i < fresh.length; i += REMOTE_EMBED_BATCH) {
      const batch = fresh.slice(i, i + REMOTE_EMBED_BATCH);
      let vectors: number[][] | undefined;
      try {
        vectors = await embedTexts(
          this.components.gateway,
          this.active,
          batch.map((m) => m.text),
          this.backgroundSignal(),
        );
      } catch (error) {
        this.components.logger.warn(
          { err: error, space },
          'cannot embed shared memories yet; they are stored and embedded later',
        );
      }
      if (vectors !== undefined) await this.ensureIndex(this.active, vectors[0]!.length);
      await memories.upsertMany(
        batch.map((memory, j) => {
          const vector = vectors?.[j];
          return {
            id: memory.id,
            text: memory.text,
            tags: memory.tags,
            source: memory.source,
            // The store names this node by its peer id even where a document keeps an old name.
            authorNode: this.isOwnAuthor(memory.author) ? this.init.nodeId : memory.author,
            space,
            createdAt: new Date(memory.createdAt),
            updatedAt: new Date(memory.updatedAt),
            embedding: vector === undefined ? null : { model: this.active, vector },
          };
        }),
      );
      if (vectors === undefined) this.kickEmbedding();
    }
    if (removed.length > 0 || fresh.length > 0) this.indexed = await memories.count();
  }

  /** Makes the index hold exactly the memories of a space document. */
  private async reconcile(space: string): Promise<void> {
    const inDoc = this.components.spaces.memories(space);
    const ids = new Set(inDoc.map((m) => m.id));
    const stale = (await this.components.store.memories.idsInSpace(space)).filter((id) => !ids.has(id));
    await this.applyRemote(space, inDoc, stale);
  }

  private async tryEmbed(text: string): Promise<{ model: string; vector: number[] } | null> {
    try {
      const model = this.active;
      const [vector] = await embedTexts(this.components.gateway, model, [text], this.backgroundSignal());
      await this.ensureIndex(model, vector!.length);
      return { model, vector: vector! };
    } catch (error) {
      // The memory is kept either way; the background pass embeds it once a model is reachable.
      this.components.logger.warn(
        { err: error, model: this.active },
        'cannot embed a memory now; it will be embedded later',
      );
      return null;
    }
  }

  /** The signal of an embedding call outside a chat: bounded, and ended by stop(). */
  private backgroundSignal(): AbortSignal {
    return AbortSignal.any([this.lifetime.signal, AbortSignal.timeout(EMBED_TIMEOUT_MS)]);
  }

  /**
   * Makes sure the vector index for `dims` exists, once per embedding model and dimension seen:
   * a failed attempt is forgotten, so the next call tries again.
   */
  private ensureIndex(model: string, dims: number): Promise<void> {
    const key = `${model}\u0000${dims}`;
    let ensured = this.indexes.get(key);
    if (ensured === undefined) {
      ensured = this.components.store.memories.ensureVectorIndex(dims).catch((error: unknown) => {
        this.indexes.delete(key);
        throw error;
      });
      this.indexes.set(key, ensured);
    }
    return ensured;
  }

  /** Starts the background pass that embeds what lacks a vector from the chosen model, then swaps models. */
  private kickEmbedding(): void {
    if (this.stopped) return;
    if (this.embedding !== undefined) {
      this.embedAgain = true;
      return;
    }
    this.embedding = (async () => {
      do {
        this.embedAgain = false;
        await this.embedPass();
      } while (this.embedAgain && !this.stopped);
    })()
      .catch((error: unknown) => {
        this.components.logger.warn(
          { err: error, model: this.target },
          'background embedding failed; retrying later',
        );
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.kickEmbedding(), EMBED_RETRY_MS);
        this.retryTimer.unref();
      })
      .finally(() => {
        this.embedding = undefined;
      });
  }

  private async embedPass(): Promise<void> {
    const { memories, settings } = this.components.store;
    for (let round = 0; round < 1_000_000 && !this.stopped; round++) {
      const model = this.target;
      const batch = await memories.needingEmbedding(model, EMBED_BATCH);
      if (batch.length === 0) {
        this.promoting = true;
        let promoted = false;
        try {
          promoted = await memories.promoteEmbeddings(model);
          if (promoted) {
            if (this.active !== model) {
              this.components.logger.info(
                { from: this.active, to: model },
                'memories re-embedded; search uses the new model',
              );
            }
            this.active = model;
          }
        } finally {
          this.promoting = false;
        }
        if (promoted) {
          await writeSetting(settings, SETTINGS.activeEmbeddingModel, model);
          return;
        }
        continue;
      }
      const vectors = await embedTexts(
        this.components.gateway,
        model,
        batch.map((m) => m.text),
        this.backgroundSignal(),
      );
      await this.ensureIndex(model, vectors[0]!.length);
      for (const [i, row] of batch.entries()) await memories.setNextEmbedding(row.id, model, vectors[i]!);
    }
  }
}

/** Builds the memory service of a node, with its spaces stored in the node's store. */
export function createMemoryService(
  nodeId: string,
  components: Omit<MemoryServiceComponents, 'spaces'> & { spaces?: SpaceSync },
  init: Omit<MemoryServiceInit, 'nodeId'> = {},
): MemoryService {
  const spaces: SpaceSync =
    components.spaces ??
    new SpaceSync(
      // Called only once the service exists (SpaceSync asks while syncing, after start).
      { nodeId, isOwn: (author: string): boolean => service.isOwnAuthor(author) },
      {
        storage: components.store.spaces,
        onWarning: (message, details) => components.logger.warn(details, message),
      },
    );
  const service: MemoryService = new MemoryService({ ...init, nodeId }, { ...components, spaces });
  return service;
}

/** PostgreSQL text (and jsonb) cannot hold U+0000: refused here, as bad input, not left to fail in the store. */
const NUL = '\u0000';

/**
 * The times a filter may name: years 0001 to 9999. Outside them a Date's ISO form has a sign and
 * six digits ("+099999-01-01"), which PostgreSQL refuses (and it has no year 0).
 */
const EARLIEST_TIME = Date.parse('0001-01-01T00:00:00.000Z');
const LATEST_TIME = Date.parse('9999-12-31T23:59:59.999Z');

function checkNoNul(text: string, what: string): void {
  if (text.includes(NUL))
    throw new InvalidSpaceInputError(`${what} must not contain NUL (\\u0000) characters`);
}

/** A lone UTF-16 surrogate: valid in a JS string, not in UTF-8, so PostgreSQL's jsonb refuses it. */
const LONE_SURROGATE = /\p{Cs}/u;

/** For text that is stored as JSON (settings, a space's policy). */
function checkJsonStorable(text: string, what: string): void {
  if (LONE_SURROGATE.test(text))
    throw new InvalidSpaceInputError(`${what} must be valid Unicode (it holds a lone UTF-16 surrogate)`);
}

function checkTime(time: Date | undefined, what: string): void {
  if (time === undefined) return;
  const ms = time.getTime();
  if (!(ms >= EARLIEST_TIME && ms <= LATEST_TIME)) {
    throw new InvalidSpaceInputError(`${what} must be a time from year 0001 to 9999`);
  }
}

function checkFilter(filter: MemoryFilter): void {
  if (typeof filter.space === 'string') checkNoNul(filter.space, 'space');
  if (filter.author !== undefined) checkNoNul(filter.author, 'author');
  for (const tag of filter.tags ?? []) checkNoNul(tag, 'a tag');
  checkTime(filter.since, 'since');
  checkTime(filter.until, 'until');
}

function checkText(text: unknown): string {
  if (typeof text !== 'string' || text.trim() === '')
    throw new InvalidSpaceInputError('text must be a non-empty string');
  checkNoNul(text, 'text');
  const bytes = utf8.encode(text).length;
  if (bytes > MAX_MEMORY_TEXT_BYTES) {
    throw new MemoryTooLargeError(
      `text is ${bytes} bytes; the limit is ${MAX_MEMORY_TEXT_BYTES} bytes (8 KiB)`,
    );
  }
  return text;
}

function checkTags(tags: unknown): string[] {
  const valid = validateTags(tags);
  for (const tag of valid) checkNoNul(tag, 'a tag');
  return valid;
}
