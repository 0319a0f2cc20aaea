/**
 * The contract between the node and its web UI (and any other client of the management API): one
 * TypeBox schema per request and response, and its type under the same name. Routes validate
 * requests with these schemas (`validatedBy`), handlers are typed by the responses, and the web
 * imports the types only:
 *
 * @example
 * ```ts
 * import type { PeerSummary } from '@allerac/node';
 * const waiting = (peer: PeerSummary) => `${peer.load.queueDepth} queued for ${peer.load.slots} slots`;
 * ```
 */

export {
  CreateUserBody,
  IssuedToken,
  IssueTokenBody,
  Me,
  MePatchBody,
  PasswordChangeBody,
  PasswordResetBody,
  Principal,
  TokenInfo,
  TokenList,
  UserCreated,
  UserList,
  UserView,
} from './account.js';
export {
  AGENT_MODEL_PREFIX,
  AGENT_SLUG_PATTERN,
  AgentDeleted,
  AgentList,
  AgentMemory,
  AgentModels,
  AgentParams,
  AgentSampling,
  AgentTools,
  AgentUpdateBody,
  AgentView,
  BUILT_IN_AGENT_SLUGS,
  MAX_AGENT_PROMPT_BYTES,
  ModelCapability,
  NewAgentBody,
} from './agents.js';
export {
  AuthSetupBody,
  AuthState,
  LoginBody,
  SessionUser,
  SignedIn,
} from './auth.js';
export {
  BackupInfo,
  BackupKind,
  BackupList,
  BackupSchedule,
  BackupScheduleBody,
  BackupStatus,
  CreateBackupBody,
  LastBackup,
} from './backup.js';
export {
  CardBackend,
  Gpu,
  Hardware,
  Load,
} from './card.js';
export {
  AnswerInfo,
  AnswerMetadata,
  ChatChunk,
  ChatMemoryUse,
  ModelTags,
  ToolCallError,
  ToolCallInfo,
  ToolLoopStopped,
  UsedMemory,
} from './chat.js';
export {
  CONVERSATION_SOURCES,
  ConversationHeader,
  ConversationList,
  ConversationMessages,
  type ConversationSource,
  FinalAnswerStatus,
  LiveAnswerEvent,
  MAX_CONVERSATION_TITLE,
  ModelState,
  RenameConversationRequest,
  StoredMessage,
} from './conversation.js';
export {
  DocumentHitView,
  DocumentImportQuery,
  DocumentList,
  DocumentListQuery,
  DocumentParams,
  DocumentSearchBody,
  DocumentSearchResults,
  DocumentView,
} from './documents.js';
export {
  Health,
  MeshKeyState,
} from './health.js';
export {
  HomeAssistantProblem,
  HomeAssistantSettingsBody,
  HomeAssistantSettingsView,
  HomeAssistantTestBody,
  HomeAssistantTestResult,
} from './home-assistant.js';
export {
  BackendHealth,
  JoinBody,
  NodeInfo,
  PairingInvitation,
  PairingJoined,
  PeerList,
  PeerParams,
  PeerRemoved,
  PeerSummary,
  RouteCandidate,
  RouteRanking,
  RouteTerms,
} from './management.js';
export {
  ChatMemorySettings,
  CreateSpaceBody,
  EmbeddingStatus,
  InvitationDeclined,
  MemoryHit,
  MemoryListQuery,
  MemoryPage,
  MemoryPatchBody,
  MemorySearchBody,
  MemorySettings,
  MemorySettingsPatch,
  MemoryView,
  NewMemoryBody,
  OfferingPeer,
  SearchResults,
  ShareBody,
  SpaceInvitation,
  SpaceInvitationList,
  SpaceLeft,
  SpaceList,
  SpaceParams,
  SpacePeers,
  SpaceView,
} from './memory.js';
export {
  AnswerProposals,
  KeepProposalBody,
  MAX_PENDING_PROPOSALS,
  MemoryProposalList,
  MemoryProposalView,
  NotRemembered,
  PROPOSAL_ID_PATTERN,
  ProposalDiscarded,
  ProposalParams,
} from './memory-proposals.js';
export {
  FitVerdict,
  HomeDeleted,
  HomeDeleteRequest,
  HomeMachine,
  HomeModel,
  HomeModelCell,
  HomeModels,
  HomeModelsQuery,
  HomeTransfer,
} from './models-home.js';
export {
  ModelSharing,
  ModelTransfer,
  ModelTransferStatus,
  ModelTransfers,
  ModelTransfersQuery,
} from './models-transfers.js';
export {
  BackupListQuery,
  ConversationListQuery,
  IdParams,
  ModelNameParams,
  RouteQuery,
} from './query.js';
export { Ok } from './schema.js';
export {
  InstalledModel,
  NodeSettings,
  Recommendation,
  SettingsPatchBody,
  SettingsUpdated,
  SetupCompleteBody,
  SetupJoined,
} from './setup.js';
export {
  Dashboard,
  DashboardModel,
  LIVE_EVENT_SCHEMAS,
  type LiveEvents,
  ModelPullBody,
  type PullEvents,
  PullProgress,
  SystemHistory,
  SystemSample,
} from './system.js';
export {
  ReleaseInfo,
  UpdateCheck,
  UpdateEvent,
  UpdateSettings,
  UpdateSettingsBody,
  UpdateSource,
  UpdateStatus,
} from './update.js';
export {
  LANGUAGES,
  Language,
  Role,
  SPECIALIZATIONS,
  Specialization,
} from './vocabulary.js';
export { PeerWoken, SleepingPeer, SleepingPeerList, SleepingPeersQuery } from './wake.js';
