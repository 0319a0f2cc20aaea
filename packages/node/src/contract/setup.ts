/** /allerac/v1/setup/* and /settings: steps 2-5 of the setup wizard, and the node's settings. */
import { type Static, Type } from '@sinclair/typebox';
import { SETTING_SCHEMAS } from '../store/settings-keys.js';
import { Closed, Nullable, RequiredText } from './schema.js';
import { Language, Specialization } from './vocabulary.js';

/** A model of the local Ollama, as the wizard offers it. */
export const InstalledModel = Closed({
  name: Type.String(),
  size: Type.Number(),
  parameterSize: Nullable(Type.String()),
  family: Nullable(Type.String()),
  /** True for embedding models, which go in the wizard's second list. */
  embedding: Type.Boolean(),
  /** True when its size suits this machine's RAM. */
  fits: Type.Boolean(),
});
export type InstalledModel = Static<typeof InstalledModel>;

/** GET /allerac/v1/setup/recommendation: which models suit this machine, and what is installed. */
export const Recommendation = Closed({
  ramBytes: Type.Number(),
  tier: Type.Union([Type.Literal('small'), Type.Literal('medium'), Type.Literal('large')]),
  /** Suggested chat models, best first. */
  chat: Type.Array(Type.String()),
  /** Suggested embedding models, best first. */
  embedding: Type.Array(Type.String()),
  /** The parameter-count range that fits, for the UI to explain the choice. */
  sizeHint: Type.String(),
  installed: Type.Array(InstalledModel),
});
export type Recommendation = Static<typeof Recommendation>;

/** A model name a request chooses; null or absent keeps the current choice. */
const ModelChoice = Type.Optional(Nullable(RequiredText(200)));

/**
 * An agent's name as a request gives it. The schema bounds the text; the node then trims and
 * NFC-normalises it and wants 1 to 64 code points without control or bidi characters (agent-name.ts).
 */
const AgentNameText = RequiredText(256);

/** POST /allerac/v1/setup/complete: what the wizard chose; the name and specialisations apply at once. */
export const SetupCompleteBody = Type.Object({
  agentName: AgentNameText,
  specializations: Type.Optional(
    Type.Array(Specialization, { description: 'a list drawn from code, research, creative, home' }),
  ),
  /** The chat page's default model (`ui.chatModel`). */
  chatModel: ModelChoice,
  /** The memory service's embedding model (`memory.embeddingModel`); memories are re-embedded with it. */
  embeddingModel: ModelChoice,
  language: Type.Optional(Nullable(Language)),
});
export type SetupCompleteBody = Static<typeof SetupCompleteBody>;

/** POST /allerac/v1/setup/join answers that the node has joined; it needs no restart. */
export const SetupJoined = Closed({ joined: Type.Literal(true), restartRequired: Type.Literal(false) });
export type SetupJoined = Static<typeof SetupJoined>;

/** GET /allerac/v1/settings: every known setting that is stored, by key (store/settings-keys.ts). */
export const NodeSettings = Type.Partial(Type.Object(SETTING_SCHEMAS, { additionalProperties: false }));
export type NodeSettings = Static<typeof NodeSettings>;

/**
 * PATCH /allerac/v1/settings: the settings to change, each optional; at least one. Name,
 * specialisations, models, language and Ollama URL apply at once; `serveLan` at the next start.
 */
export const SettingsPatchBody = Type.Object(
  {
    /** The agent's name (`agent.name`); peers see it within seconds. */
    agentName: Type.Optional(AgentNameText),
    /** What this agent is for (`agent.specializations`); duplicates are dropped. */
    specializations: Type.Optional(
      Type.Array(Specialization, {
        maxItems: 16,
        description: 'a list drawn from code, research, creative, home',
      }),
    ),
    /** The chat page's default model (`ui.chatModel`). */
    chatModel: Type.Optional(RequiredText(200)),
    /** The memory service's embedding model (`memory.embeddingModel`); memories are re-embedded with it. */
    embeddingModel: Type.Optional(RequiredText(200)),
    /** The UI's language before a user picks their own (`ui.language`). */
    language: Type.Optional(Language),
    /** This node's Ollama, an http(s) URL (`backend.ollamaUrl`); the backend switches to it at once. */
    ollamaUrl: Type.Optional(RequiredText(2048)),
    /** Serve the home network (`http.serveLan`): 0.0.0.0 from the next start, unless --http-host is given. */
    serveLan: Type.Optional(Type.Boolean()),
    /** Send Wake-on-LAN packets to sleeping peers this node would route to (`wake.enabled`). */
    wakeEnabled: Type.Optional(Type.Boolean()),
    /** This machine wakes on a magic packet (`wake.wakeOnLan`); peers see it in the card. */
    wakeOnLan: Type.Optional(Type.Boolean()),
    /** The home prefers this machine while it is on (`wake.preferredWhenOn`); peers see it in the card. */
    preferredWhenOn: Type.Optional(Type.Boolean()),
    /** How long to wait for a better, sleeping machine, ms (`routing.patienceMs`). */
    patienceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    /** Load models in demand ahead of need where they serve best (`routing.prewarm`). */
    prewarm: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type SettingsPatchBody = Static<typeof SettingsPatchBody>;

/** What PATCH /allerac/v1/settings answers: the stored settings after the change. */
export const SettingsUpdated = Closed({
  settings: NodeSettings,
  /** True when a change waits for a restart (serving the home network, or not, changes the listen address). */
  restartRequired: Type.Boolean(),
});
export type SettingsUpdated = Static<typeof SettingsUpdated>;
