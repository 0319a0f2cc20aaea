/**
 * @allerac/memory-sync: shared memory spaces as Automerge documents, their sync over any ordered
 * message transport (the node binds it to libp2p's `/allerac/sync/1.0.0`), privacy policy per
 * space and peer, and history purge with epochs. Vectors never enter a space: every node embeds
 * shared text itself into its local pgvector index.
 *
 * @example
 * ```ts
 * const sync = new SpaceSync({ nodeId: 'alice' }, { storage: new InMemorySpaceStorage() });
 * await sync.start();
 * await sync.createSpace('household', { peers: 'all' });
 * sync.addPeer(bobPeerId, (message) => stream.write(message));
 * await sync.put('household', { id, text: 'the dishwasher filter was changed in March', tags: [], source: 'user',
 *   createdAt: Date.now(), updatedAt: Date.now() });
 * ```
 */
export {
  ENTRY_KEY_PREFIX,
  MAX_ENTRY_BYTES,
  MAX_MEMORY_TAGS,
  MAX_MEMORY_TEXT_BYTES,
  MAX_RESERVED_ENTRIES,
  MAX_TAG_LENGTH,
  MEMORY_KEY_PREFIX,
  RESERVED_DOC_PREFIX,
} from './constants.js';
export {
  InvalidSpaceInputError,
  MalformedSyncMessageError,
  SpaceExistsError,
  SyncNotAllowedError,
  UnknownSpaceError,
} from './errors.js';
export {
  MAX_POLICY_PEERS,
  mayShareWith,
  SPACE_NAME_PATTERN,
  type SpacePeers,
  type SpacePolicy,
  validatePolicy,
  validateSpaceName,
} from './policy.js';
export { isReservedName, listEntries, putEntry, removeEntry, validateReservedName } from './reserved-doc.js';
export {
  createSpaceDoc,
  epochOf,
  getMemory,
  historyContains,
  listMemories,
  loadSpaceDoc,
  type MemorySource,
  purgedCopy,
  putMemory,
  removeMemory,
  type SharedMemory,
  type SpaceDoc,
  type SpaceDocument,
  saveSpaceDoc,
  validateMemoryText,
  validateTags,
} from './space-doc.js';
export {
  type CountedSyncHelloMessage,
  type EntriesChangeEvent,
  type EpochSyncMessage,
  type OffersChangedEvent,
  type SpaceChangeEvent,
  type SpaceInfo,
  type SpaceOffer,
  SpaceSync,
  type SpaceSyncComponents,
  type SpaceSyncInit,
  type SpaceSyncWireMessage,
  type SyncSend,
} from './space-sync.js';
export { InMemorySpaceStorage, type SpaceStorage, type StoredSpace } from './storage.js';
