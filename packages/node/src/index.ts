/**
 * The Allerac node: one per machine of a home, serving the Ollama and OpenAI APIs for the whole
 * mesh, the web UI and the management API. `createNode` is the composition root the daemon
 * (`allerac start`), the tests and the benchmarks all build nodes with.
 *
 * @example
 * ```ts
 * import { createNode, resolveStartConfig } from '@allerac/node';
 *
 * const node = await createNode(resolveStartConfig({ name: 'kitchen', dataDir: './data' }));
 * await node.start();
 * node.mesh.addEventListener('peer:join', (evt) => node.logger.info({ peer: evt.detail.name }, 'joined'));
 * await node.stop();
 * ```
 */
import { fileURLToPath } from 'node:url';

export type {
  LocalCardState,
  Mesh,
  MeshComponents,
  MeshEvents,
  MeshInit,
  PeerView,
} from '@allerac/mesh';
export { InvalidAgentNameError, MAX_AGENT_NAME_CHARS, normalizeAgentName } from './agent-name.js';
export type { Backend, BackendHealth } from './backend/backend.js';
export {
  ConfigError,
  DEFAULTS,
  type NodeConfig,
  type RawStartOptions,
  resolveStartConfig,
} from './config.js';
export {
  type AlleracNode,
  createNode,
  type NodeComponents,
  NodeNotStartedError,
  NodeShuttingDownError,
  NodeStoppedError,
  type RunningNode,
  SHUTDOWN_GRACE_MS,
  startNode,
} from './daemon.js';
export { acquireDataDirLock, type DataDirLock, DataDirLockedError } from './data-dir-lock.js';
export {
  ConflictError,
  DomainError,
  type DomainErrorOptions,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  RateLimitedError,
  TooLargeError,
  UnauthenticatedError,
  UnavailableError,
  UpstreamError,
} from './errors.js';
export { DEFAULT_SLOTS } from './inference/local-load.js';
export type { MemoryService } from './memory/memory-service.js';
// The node's createMesh brings its system probe, so a caller need not inject the hardware.
export {
  createNodeMesh as createMesh,
  type MeshRuntime,
  type MeshRuntimeEvents,
  type PeerSummary,
} from './mesh-runtime.js';
export {
  callNode,
  connectNode,
  createNodeClient,
  DEFAULT_NODE_CLIENT_TIMEOUT_MS,
  type NodeClient,
  type NodeClientComponents,
  type NodeClientInit,
  NodeNotRunningError,
  NodeRequestError,
  NodeTokenMissingError,
  NodeUnreachableError,
} from './node-client.js';
export { PortInUseError } from './port-clash.js';
export { openStore, type Store, type StoreOptions } from './store/store.js';
export {
  createSystemProbe,
  type HardwareProbe,
  type SystemProbe,
  type SystemProbeInit,
  type SystemSample,
} from './system/hardware.js';
export {
  HISTORY_LENGTH,
  SAMPLE_INTERVAL_MS,
  type SystemSampler,
  type SystemSamplerEvents,
} from './system/system-sampler.js';
export { SOFTWARE_VERSION } from './version.js';

/** The `allerac` command (bin/allerac.js), for running a node as a process of its own. */
export const ALLERAC_BIN: string = fileURLToPath(new URL('../bin/allerac.js', import.meta.url));

// The API contract (contract/): the types of every management and UI request and response, which
// the web UI imports (types only, so its bundle holds no node code). BackendHealth, PeerSummary
// and SystemSample are exported above; the contract pins its own to be the same types.
export type {
  AgentDeleted,
  AgentList,
  AgentUpdateBody,
  AgentView,
  AnswerInfo,
  AnswerMetadata,
  AuthSetupBody,
  AuthState,
  BackupInfo,
  BackupKind,
  BackupList,
  BackupListQuery,
  BackupSchedule,
  BackupScheduleBody,
  BackupStatus,
  CardBackend,
  ChatChunk,
  ChatMemorySettings,
  ChatMemoryUse,
  ConversationHeader,
  ConversationList,
  ConversationListQuery,
  ConversationMessages,
  ConversationSource,
  CreateBackupBody,
  CreateSpaceBody,
  CreateUserBody,
  Dashboard,
  DashboardModel,
  DocumentHitView,
  DocumentList,
  DocumentSearchResults,
  DocumentView,
  EmbeddingStatus,
  FinalAnswerStatus,
  Gpu,
  Hardware,
  Health,
  HomeAssistantProblem,
  HomeAssistantSettingsBody,
  HomeAssistantSettingsView,
  HomeAssistantTestBody,
  HomeAssistantTestResult,
  HomeDeleted,
  HomeDeleteRequest,
  HomeMachine,
  HomeModel,
  HomeModelCell,
  HomeModels,
  HomeModelsQuery,
  HomeTransfer,
  IdParams,
  InstalledModel,
  InvitationDeclined,
  IssuedToken,
  IssueTokenBody,
  JoinBody,
  Language,
  LastBackup,
  LiveAnswerEvent,
  LiveEvents,
  Load,
  LoginBody,
  Me,
  MemoryHit,
  MemoryListQuery,
  MemoryPage,
  MemoryPatchBody,
  MemoryProposalList,
  MemoryProposalView,
  MemorySearchBody,
  MemorySettings,
  MemorySettingsPatch,
  MemoryView,
  MePatchBody,
  MeshKeyState,
  ModelNameParams,
  ModelPullBody,
  ModelState,
  ModelTags,
  NewAgentBody,
  NewMemoryBody,
  NodeInfo,
  NodeSettings,
  OfferingPeer,
  Ok,
  PairingInvitation,
  PairingJoined,
  PasswordChangeBody,
  PasswordResetBody,
  PeerList,
  PeerParams,
  PeerRemoved,
  PeerWoken,
  Principal,
  PullEvents,
  PullProgress,
  Recommendation,
  ReleaseInfo,
  RenameConversationRequest,
  Role,
  RouteCandidate,
  RouteQuery,
  RouteRanking,
  RouteTerms,
  SearchResults,
  SessionUser,
  SettingsPatchBody,
  SettingsUpdated,
  SetupCompleteBody,
  SetupJoined,
  ShareBody,
  SignedIn,
  SleepingPeer,
  SleepingPeerList,
  SpaceInvitation,
  SpaceInvitationList,
  SpaceLeft,
  SpaceList,
  SpaceParams,
  SpacePeers,
  SpaceView,
  Specialization,
  StoredMessage,
  SystemHistory,
  TokenInfo,
  TokenList,
  ToolCallError,
  ToolCallInfo,
  ToolLoopStopped,
  UpdateCheck,
  UpdateEvent,
  UpdateSettings,
  UpdateSettingsBody,
  UpdateSource,
  UpdateStatus,
  UsedMemory,
  UserCreated,
  UserList,
  UserView,
} from './contract/index.js';
// The routing benchmark replays a trace through the node's own learning and affinity.
export { ConversationAffinities, promptTokensOf, turnTokens } from './inference/conversation-affinity.js';
export { PeerMeasurements } from './inference/measurements.js';
