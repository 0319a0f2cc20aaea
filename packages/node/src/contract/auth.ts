/** /auth/*: the UI endpoints reachable without a session, and how a session is obtained. */
import { type Static, Type } from '@sinclair/typebox';
import { Closed, Nullable, RequiredText, StoredText } from './schema.js';
import { Language, Role } from './vocabulary.js';

/** The signed-in user, as the UI shows them. */
export const SessionUser = Closed({
  id: Type.String(),
  username: Type.String(),
  role: Role,
  language: Type.String(),
});
export type SessionUser = Static<typeof SessionUser>;

/** GET /auth/state: where setup stands, who is signed in, and this node. */
export const AuthState = Closed({
  setup: Closed({
    adminCreated: Type.Boolean(),
    complete: Type.Boolean(),
    /** True when this caller is on another machine and must enter the one-time setup code. */
    codeRequired: Type.Boolean(),
    /** Where the setup code is written, until an admin exists. */
    codeFile: Nullable(Type.String()),
  }),
  user: Nullable(SessionUser),
  node: Closed({ name: Type.String(), version: Type.String() }),
  /** The node's UI language (`ui.language`), for a browser that has not picked one. */
  language: Nullable(Language),
});
export type AuthState = Static<typeof AuthState>;

/** POST /auth/setup: the first admin; from another machine with the one-time setup code. */
export const AuthSetupBody = Type.Object({
  username: RequiredText(64),
  password: RequiredText(1024),
  language: Type.Optional(Nullable(Language)),
  setupCode: Type.Optional(StoredText),
});
export type AuthSetupBody = Static<typeof AuthSetupBody>;

/** POST /auth/login. */
export const LoginBody = Type.Object({ username: RequiredText(256), password: RequiredText(1024) });
export type LoginBody = Static<typeof LoginBody>;

/** POST /auth/setup (201) and /auth/login answer the user now signed in. */
export const SignedIn = Closed({ user: SessionUser });
export type SignedIn = Static<typeof SignedIn>;
