import type { FastifyInstance } from 'fastify';
import type { AccountService } from '../accounts/account-service.js';
import type { SetupCode } from '../accounts/setup-code.js';
import type { User } from '../accounts/user-repository.js';
import { isLoopback } from '../auth/api-tokens.js';
import {
  AuthSetupBody,
  type AuthState,
  LoginBody,
  type SessionUser,
  type SignedIn,
} from '../contract/auth.js';
import { HttpError } from '../http/errors.js';
import { validatedBy } from '../http/validate.js';
import { readSetting, writeSetting } from '../store/settings-keys.js';
import type { SettingsRepository } from '../store/settings-repository.js';
import { checkCsrf, clearSessionCookies, sessionTokenOf, setSessionCookies } from './session-auth.js';

/** What the open auth routes need. */
export interface AuthRoutesDeps {
  accounts: AccountService;
  settings: SettingsRepository;
  /** The agent's current name (it changes on a rename). */
  nodeName: () => string;
  version: string;
  /** The one-time code that claims this node from another machine. */
  setupCode: SetupCode;
}

/** Thrown when a claim of a fresh node comes from the network without the setup code. */
export class SetupCodeRequiredError extends HttpError {
  override name = 'SetupCodeRequiredError';
  constructor(file: string) {
    super(
      403,
      `to set up this node from another machine, enter the setup code printed in the terminal where the node started (also in ${file})`,
      'permission_error',
      'setup_code_required',
    );
  }
}

const publicUser = (user: Pick<User, 'id' | 'username' | 'role' | 'language'>): SessionUser => ({
  id: user.id,
  username: user.username,
  role: user.role,
  language: user.language,
});

/**
 * /auth/*: the only UI endpoints reachable without a session. They sit outside /allerac/* because
 * that prefix always needs a credential, and these are how one is obtained.
 */
export function registerAuthRoutes(app: FastifyInstance, deps: AuthRoutesDeps): void {
  app.get('/auth/state', { config: { access: 'public' } }, async (request, reply): Promise<AuthState> => {
    reply.header('Cache-Control', 'no-store');
    const token = sessionTokenOf(request);
    const session = token === undefined ? undefined : await deps.accounts.session(token);
    const setup = await deps.accounts.setupState();
    return {
      setup: {
        ...setup,
        // The wizard asks for the code only when this caller needs it, and says where it is.
        codeRequired: !setup.adminCreated && !isLoopback(request.socket.remoteAddress),
        codeFile: setup.adminCreated ? null : deps.setupCode.file,
      },
      user:
        session === undefined
          ? null
          : publicUser({
              id: session.userId,
              username: session.username,
              role: session.role,
              language: session.language,
            }),
      node: { name: deps.nodeName(), version: deps.version },
      language: (await readSetting(deps.settings, 'ui.language')) ?? null,
    };
  });

  // Creates the first admin and logs them in; refused with 409 once an admin exists. From another
  // machine it needs the one-time setup code, so a web page or a LAN host cannot claim the node.
  app.post<{ Body: AuthSetupBody }>(
    '/auth/setup',
    { config: { access: 'public' }, ...validatedBy({ body: AuthSetupBody }) },
    async (request, reply) => {
      const { body } = request;
      if (!isLoopback(request.socket.remoteAddress)) {
        const code = body.setupCode;
        if (typeof code !== 'string' || !deps.setupCode.matches(code)) {
          throw new SetupCodeRequiredError(deps.setupCode.file);
        }
      }
      const language = body.language ?? 'en';
      const user = await deps.accounts.createFirstAdmin(body.username, body.password, language);
      deps.setupCode.consume();
      await writeSetting(deps.settings, 'ui.language', language);
      setSessionCookies(reply, await deps.accounts.openSession(user));
      const signedIn: SignedIn = { user: publicUser(user) };
      return reply.status(201).send(signedIn);
    },
  );

  app.post<{ Body: LoginBody }>(
    '/auth/login',
    { config: { access: 'public' }, ...validatedBy({ body: LoginBody }) },
    async (request, reply): Promise<SignedIn> => {
      const session = await deps.accounts.login(
        request.body.username,
        request.body.password,
        request.socket.remoteAddress ?? 'unknown',
      );
      setSessionCookies(reply, session);
      return { user: publicUser(session.user) };
    },
  );

  app.post('/auth/logout', { config: { access: 'public' } }, async (request, reply) => {
    const token = sessionTokenOf(request);
    if (token !== undefined) {
      const session = await deps.accounts.session(token);
      if (session !== undefined) {
        checkCsrf(request, session.csrfToken);
        await deps.accounts.logout(token);
      }
    }
    clearSessionCookies(reply);
    return reply.status(204).send();
  });
}
