/** Where space documents persist: an adapter interface plus an in-memory implementation for tests. */
import type { SpacePolicy } from './policy.js';

/** One space as persisted: its saved Automerge document, epoch and policy. */
export interface StoredSpace {
  /** Space name. */
  name: string;
  /** History epoch; see SpaceSync for how peers move to a newer one. */
  epoch: number;
  /** Who may sync it with this node. */
  policy: SpacePolicy;
  /** `Automerge.save()` of the document. */
  doc: Uint8Array;
}

/** Persistence of space documents. A resolved `save` means the write is durable. */
export interface SpaceStorage {
  /** Every stored space. */
  loadAll(): Promise<StoredSpace[]>;
  /** Inserts or replaces a space. */
  save(space: StoredSpace): Promise<void>;
  /** Forgets a space; a no-op when absent. */
  remove(name: string): Promise<void>;
}

/** A SpaceStorage in memory, for tests and benchmarks. */
export class InMemorySpaceStorage implements SpaceStorage {
  /** The stored spaces by name, readable by tests. */
  readonly spaces = new Map<string, StoredSpace>();

  async loadAll(): Promise<StoredSpace[]> {
    return [...this.spaces.values()].map((s) => ({ ...s, doc: s.doc.slice() }));
  }

  async save(space: StoredSpace): Promise<void> {
    this.spaces.set(space.name, { ...space, doc: space.doc.slice() });
  }

  async remove(name: string): Promise<void> {
    this.spaces.delete(name);
  }
}
