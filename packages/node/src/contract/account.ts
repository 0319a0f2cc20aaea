/** /allerac/v1/me, /users and /tokens: the signed-in user, accounts and API tokens. */
import { type Static, Type } from '@sinclair/typebox';
import { Closed, IsoTime, Nullable, RequiredText, StoredText } from './schema.js';
import { Language, Role } from './vocabulary.js';

/** Who made a request: this machine, a token, or a signed-in user. */
export const Principal = Closed({
  kind: Type.Union([Type.Literal('loopback'), Type.Literal('token'), Type.Literal('session')]),
  role: Role,
  /** Token id or user id. */
  id: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
});
export type Principal = Static<typeof Principal>;

/** GET /allerac/v1/me. */
export const Me = Closed({
  principal: Nullable(Principal),
  /** The chat page's default model, chosen in the setup wizard; null when none was. */
  chatModel: Nullable(Type.String()),
});
export type Me = Static<typeof Me>;

/** PATCH /allerac/v1/me: a signed-in user's preferences. */
export const MePatchBody = Type.Object({ language: Type.Optional(Nullable(Language)) });
export type MePatchBody = Static<typeof MePatchBody>;

/** POST /allerac/v1/me/password. */
export const PasswordChangeBody = Type.Object({
  currentPassword: RequiredText(1024),
  newPassword: RequiredText(1024),
});
export type PasswordChangeBody = Static<typeof PasswordChangeBody>;

/** POST /allerac/v1/users/:id/password: an admin sets another account's password (a forgotten one); its sessions end. */
export const PasswordResetBody = Type.Object({ password: RequiredText(1024) });
export type PasswordResetBody = Static<typeof PasswordResetBody>;

/** A UI account (never its password hash). */
export const UserView = Closed({
  id: Type.String(),
  username: Type.String(),
  role: Role,
  language: Type.String(),
  createdAt: IsoTime,
});
export type UserView = Static<typeof UserView>;

/** GET /allerac/v1/users. */
export const UserList = Closed({ users: Type.Array(UserView) });
export type UserList = Static<typeof UserList>;

/** POST /allerac/v1/users. */
export const CreateUserBody = Type.Object({
  username: RequiredText(64),
  password: RequiredText(1024),
  role: Type.Optional(Role),
  language: Type.Optional(Nullable(Language)),
});
export type CreateUserBody = Static<typeof CreateUserBody>;

/** POST /allerac/v1/users answers 201 with the account. */
export const UserCreated = Closed({ user: UserView });
export type UserCreated = Static<typeof UserCreated>;

/** A token as listed: never its secret nor its hash. */
export const TokenInfo = Closed({
  id: Type.String(),
  name: Type.String(),
  role: Role,
  /** `api`: issued by the management API (database); `cli`: by `allerac token` (token file). */
  source: Type.Union([Type.Literal('api'), Type.Literal('cli')]),
  /** A device key (in a base URL, `/k/<key>`, for the Ollama and OpenAI APIs only), not a bearer token. */
  device: Type.Boolean(),
  createdAt: IsoTime,
  /** Tracked for API tokens only. */
  lastUsedAt: Nullable(IsoTime),
  /** Null: never expires. */
  expiresAt: Nullable(IsoTime),
  revokedAt: Nullable(IsoTime),
  /** Whether the token is accepted now. */
  state: Type.Union([Type.Literal('live'), Type.Literal('expired'), Type.Literal('revoked')]),
});
export type TokenInfo = Static<typeof TokenInfo>;

/** GET /allerac/v1/tokens. */
export const TokenList = Closed({ tokens: Type.Array(TokenInfo) });
export type TokenList = Static<typeof TokenList>;

/** POST /allerac/v1/tokens: a lifetime (`expiresIn`, e.g. "30d") or an end (`expiresAt`), or neither. */
export const IssueTokenBody = Type.Object({
  name: RequiredText(100),
  role: Type.Optional(Role),
  expiresIn: Type.Optional(
    Nullable(
      Type.Union([StoredText, Type.Integer({ minimum: 1 })], {
        description: 'a duration such as "30d", or a whole number of seconds',
      }),
    ),
  ),
  expiresAt: Type.Optional(Nullable(Type.String({ ...StoredText, description: 'an ISO time' }))),
  /** A device key for a client that cannot send a bearer token: it goes in the base URL. */
  device: Type.Optional(
    Type.Boolean({ description: 'true for a device key, false or absent for a bearer token' }),
  ),
});
export type IssueTokenBody = Static<typeof IssueTokenBody>;

/** POST /allerac/v1/tokens answers 201 with the token; its secret is shown this once. */
export const IssuedToken = Closed({
  id: Type.String(),
  name: Type.String(),
  role: Role,
  token: Type.String(),
  expiresAt: Nullable(IsoTime),
  device: Type.Boolean(),
  /** A device key's ready base URLs, addressed as other machines of the home reach this node. */
  baseUrls: Type.Optional(
    Closed({
      /** For Ollama clients (OLLAMA_HOST, Open WebUI, Home Assistant): `http://<node>:<port>/k/<key>`. */
      ollama: Type.String(),
      /** For OpenAI clients (the SDKs' baseURL): `.../k/<key>/v1`. */
      openai: Type.String(),
    }),
  ),
  /** With `baseUrls`: false when the node listens on loopback only, so other machines cannot reach it. */
  reachableFromLan: Type.Optional(Type.Boolean()),
});
export type IssuedToken = Static<typeof IssuedToken>;
