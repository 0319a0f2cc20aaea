/**
 * @allerac/mesh: the home's mesh. The libp2p host on the mesh key, pairing (mesh key and
 * invitations), NodeCards, liveness, key rotation and stream admission. It knows nothing of the
 * node: its errors declare a `kind` for the caller to map, and the hardware probe is injected.
 *
 * @example
 * ```ts
 * const mesh = createMesh({ name: 'kitchen', dataDir, meshKeyFile, listenHost: '0.0.0.0', p2pPort: 4001,
 *   specializations: ['home'], softwareVersion: '0.1.0' }, { logger, cardSource, hardware });
 * await mesh.start();
 * mesh.addEventListener('peer:join', (evt) => logger.info(evt.detail.name));
 * ```
 */
export {
  MeshConflictError,
  MeshError,
  type MeshErrorKind,
  type MeshErrorOptions,
  MeshInputError,
  MeshUnavailableError,
  MeshUpstreamError,
} from './errors.js';
export {
  formatInvitationCode,
  INVITATION_SECRET_BYTES,
  type InvitationCode,
  JoinCodeError,
  LegacyJoinCodeError,
  parseInvitationCode,
} from './join-code.js';
export {
  createMesh,
  DEFAULT_MDNS_INTERVAL_MS,
  DEFAULT_MDNS_SERVICE_TAG,
  type HardwareProbe,
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
export { applyJoin, type JoinOutcome, joinedWith, RetiredJoinCodeError, recordJoined } from './mesh-join.js';
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
export { InvitationRefusedError, InviterUnreachableError, redeemInvitation } from './pairing-client.js';
export {
  INVITATION_TTL_MS,
  InvitationBook,
  MAX_LIVE_INVITATIONS,
  MAX_WRONG_PROOFS,
  TooManyInvitationsError,
} from './pairing-invitations.js';
export {
  MAX_PAIRING_FRAME_BYTES,
  PAIRING_EXCHANGE_TIMEOUT_MS,
  type PairingMessage,
  PairingProtocolError,
  type PairingRefusal,
  type Welcome,
} from './pairing-protocol.js';
export { MAX_PAIRING_CONNECTIONS } from './pairing-server.js';
export {
  advertisedHost,
  NoPairingAddressError,
  type OpenedInvitation,
  OwnInvitationError,
  PairingService,
  type PairingServiceComponents,
  type PairingServiceInit,
} from './pairing-service.js';
export { type DisplayName, displayNames } from './peer-names.js';
export { formatPeersTable } from './peers-table.js';
