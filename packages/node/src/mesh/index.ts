/**
 * The node's mesh: the libp2p host, pairing (mesh key and join codes), NodeCards, liveness and
 * key rotation.
 *
 * @example
 * ```ts
 * const mesh = createMesh({ name: 'kitchen', dataDir, meshKeyFile, listenHost: '0.0.0.0', p2pPort: 4001,
 *   specializations: ['home'], softwareVersion: '0.1.0' }, { logger, cardSource });
 * await mesh.start();
 * mesh.addEventListener('peer:join', (evt) => logger.info(evt.detail.name));
 * ```
 */
export { createJoinCode, JoinCodeError, parseJoinCode } from './join-code.js';
export {
  createMesh,
  DEFAULT_MDNS_INTERVAL_MS,
  DEFAULT_MDNS_SERVICE_TAG,
  type LocalCardState,
  type Mesh,
  type MeshComponents,
  type MeshEvents,
  type MeshInit,
  type MeshKeyStatus,
  type MeshStreamHandler,
  type PeerView,
} from './mesh.js';
export {
  CannotRemoveSelfError,
  KeyRotationBusyError,
  KeyRotationNotCorroboratedError,
  MeshEpochUnknownError,
  MeshKeyOutOfDateError,
} from './mesh-errors.js';
export { applyJoin, type JoinOutcome, RetiredJoinCodeError } from './mesh-join.js';
export {
  formatSwarmKey,
  generateMeshKey,
  loadOrCreateMeshKey,
  MESH_KEY_BYTES,
  MeshKeyFormatError,
  parseSwarmKey,
  writeMeshKey,
} from './mesh-key.js';
export {
  initialMeshState,
  loadMeshState,
  loadOrCreatePeerKey,
  loadRetiredKeys,
  type MeshState,
  type OutOfDate,
  type RetiredKey,
  saveMeshState,
} from './mesh-state.js';
export { type DisplayName, displayNames } from './peer-names.js';
export { formatPeersTable } from './peers-table.js';
