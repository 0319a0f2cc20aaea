/**
 * /allerac/v1/settings/home-assistant: where this node's Home Assistant is and the long-lived
 * access token its tools use (issue #18). The token is write-only: no answer carries it.
 */
import { type Static, Type } from '@sinclair/typebox';
import { Closed, Nullable } from './schema.js';

const HTTP_URL = '^https?://[^\\s/?#]+(/[^\\s?#]*)?$';

/**
 * The domains in which assistants may act through this node when no list was saved. Agents are
 * shared by the home, and any paired node may edit one; which domains this node's token may be
 * used to change is this node's admin's choice, so a lock or an alarm needs their consent.
 */
export const DEFAULT_HA_ACTION_DOMAINS = ['light', 'switch', 'fan', 'climate', 'cover', 'media_player'];

/** HA domains, as `ha.call_service` takes them. */
const ActionDomains = Type.Array(Type.String({ pattern: '^[a-z0-9_]+$', maxLength: 64 }), {
  maxItems: 64,
  description: 'Home Assistant domains (such as light, switch) in which assistants may act through this node',
});

/** The settings as GET and PUT answer them. */
export const HomeAssistantSettingsView = Closed({
  /** HA's base URL, e.g. `http://homeassistant.local:8123`; null when not set up. */
  url: Nullable(Type.String()),
  /** Whether a token is stored (the token itself is never sent back). */
  tokenSet: Type.Boolean(),
  /** The domains in which assistants may act through this node (an agent's own list is checked too). */
  actionDomains: ActionDomains,
});
export type HomeAssistantSettingsView = Static<typeof HomeAssistantSettingsView>;

/** PUT: the URL, and the token unless the stored one stays. */
export const HomeAssistantSettingsBody = Type.Object({
  url: Type.String({
    pattern: HTTP_URL,
    maxLength: 2048,
    description:
      "Home Assistant's base URL, http:// or https:// with no query, e.g. http://homeassistant.local:8123",
  }),
  token: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 4096,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'a long-lived access token (HA: Profile → Security); leave it out to keep the stored one',
    }),
  ),
  /** Leave it out to keep the stored list (DEFAULT_HA_ACTION_DOMAINS at first). */
  actionDomains: Type.Optional(ActionDomains),
});
export type HomeAssistantSettingsBody = Static<typeof HomeAssistantSettingsBody>;

/** POST .../test: the stored settings, or these (before saving them), with the stored token when none is given. */
export const HomeAssistantTestBody = Type.Object({
  url: Type.Optional(HomeAssistantSettingsBody.properties.url),
  token: HomeAssistantSettingsBody.properties.token,
});
export type HomeAssistantTestBody = Static<typeof HomeAssistantTestBody>;

/** Why a connection test failed. */
export const HomeAssistantProblem = Type.Union([
  Type.Literal('not_configured'),
  Type.Literal('unreachable'),
  Type.Literal('timeout'),
  Type.Literal('token_refused'),
  Type.Literal('refused'),
]);
export type HomeAssistantProblem = Static<typeof HomeAssistantProblem>;

/** The outcome of a connection test. */
export const HomeAssistantTestResult = Type.Union([
  Closed({
    ok: Type.Literal(true),
    /** HA's version (`/api/config`). */
    version: Type.String(),
    /** The home's name in HA. */
    locationName: Type.String(),
  }),
  Closed({
    ok: Type.Literal(false),
    problem: HomeAssistantProblem,
    /** What went wrong and what to do, for the settings page. */
    message: Type.String(),
  }),
]);
export type HomeAssistantTestResult = Static<typeof HomeAssistantTestResult>;
