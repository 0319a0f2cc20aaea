import { networkInterfaces } from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccountService } from '../accounts/account-service.js';
import type { User } from '../accounts/user-repository.js';
import type { Principal } from '../auth/api-tokens.js';
import { deviceBaseUrls, type NodeOrigin, nodeOrigin } from '../auth/device-base-url.js';
import { resolveExpiry, TokenLifetimeError } from '../auth/token-lifetime.js';
import type { TokenRegistry } from '../auth/token-registry.js';
import {
  CreateUserBody,
  type IssuedToken,
  IssueTokenBody,
  type Me,
  MePatchBody,
  PasswordChangeBody,
  PasswordResetBody,
  type TokenList,
  type UserCreated,
  type UserList,
  type UserView,
} from '../contract/account.js';
import { IdParams } from '../contract/query.js';
import type { Ok } from '../contract/schema.js';
import { BadRequestError, HttpError } from '../http/errors.js';
import { validatedBy } from '../http/validate.js';
import { readSetting } from '../store/settings-keys.js';
import type { SettingsRepository } from '../store/settings-repository.js';

/** What the account routes need. */
export interface AccountRoutesDeps {
  accounts: AccountService;
  /** The node's settings: the chat page's default model. */
  settings: SettingsRepository;
  /** Every token of the node: the API's and the CLI's. */
  tokens: TokenRegistry;
}

const userView = (user: User): UserView => ({
  id: user.id,
  username: user.username,
  role: user.role,
  language: user.language,
  createdAt: user.createdAt.toISOString(),
});

/** Where other machines reach this node, judged from the issuing request and the listening socket. */
function originOf(request: FastifyRequest): NodeOrigin {
  const address = request.server.server.address();
  const listen =
    typeof address === 'object' && address !== null
      ? { address: address.address, port: address.port }
      : { address: '127.0.0.1', port: request.port ?? 80 };
  return nodeOrigin({ host: request.host, listen, interfaces: networkInterfaces() });
}

const principalView = ({ kind, role, id, name }: Principal): Me['principal'] => ({
  kind,
  role,
  ...(id === undefined ? {} : { id }),
  ...(name === undefined ? {} : { name }),
});

/** /allerac/v1/me, /users and /tokens: the signed-in user, accounts (admin) and API tokens (admin). */
export function registerAccountRoutes(app: FastifyInstance, deps: AccountRoutesDeps): void {
  app.get(
    '/allerac/v1/me',
    { config: { access: 'signed-in' } },
    async (request): Promise<Me> => ({
      principal: request.principal === undefined ? null : principalView(request.principal),
      chatModel: (await readSetting(deps.settings, 'ui.chatModel')) ?? null,
    }),
  );

  app.patch<{ Body: MePatchBody }>(
    '/allerac/v1/me',
    { config: { access: 'signed-in' }, ...validatedBy({ body: MePatchBody }) },
    async (request): Promise<Ok> => {
      const principal = request.principal;
      if (principal?.kind !== 'session' || principal.id === undefined)
        throw new BadRequestError('only a signed-in user has preferences');
      const { language } = request.body;
      if (language != null) await deps.accounts.setLanguage(principal.id, language);
      return { ok: true };
    },
  );

  app.post<{ Body: PasswordChangeBody }>(
    '/allerac/v1/me/password',
    { config: { access: 'signed-in' }, ...validatedBy({ body: PasswordChangeBody }) },
    async (request, reply) => {
      const principal = request.principal;
      if (principal?.kind !== 'session' || principal.id === undefined)
        throw new BadRequestError('only a signed-in user has a password');
      await deps.accounts.changePassword(
        principal.id,
        request.body.currentPassword,
        request.body.newPassword,
      );
      return reply.status(204).send();
    },
  );

  app.get(
    '/allerac/v1/users',
    { config: { access: 'admin' } },
    async (): Promise<UserList> => ({ users: (await deps.accounts.listUsers()).map(userView) }),
  );

  app.post<{ Body: CreateUserBody }>(
    '/allerac/v1/users',
    { config: { access: 'admin' }, ...validatedBy({ body: CreateUserBody }) },
    async (request, reply) => {
      const { username, password, role, language } = request.body;
      const user = await deps.accounts.createUser(username, password, role ?? 'member', language ?? 'en');
      const created: UserCreated = { user: userView(user) };
      return reply.status(201).send(created);
    },
  );

  // For a forgotten password: `allerac admin reset-password` on the machine, or another admin.
  app.post<{ Params: { id: string }; Body: PasswordResetBody }>(
    '/allerac/v1/users/:id/password',
    { config: { access: 'admin' }, ...validatedBy({ params: IdParams, body: PasswordResetBody }) },
    async (request, reply) => {
      // One's own password is changed with the current one: a stolen session must not take the account.
      if (request.principal?.kind === 'session' && request.principal.id === request.params.id)
        throw new BadRequestError('change your own password in Settings, with the current one');
      if ((await deps.accounts.resetPassword(request.params.id, request.body.password)) === undefined)
        throw new HttpError(404, 'no such user');
      return reply.status(204).send();
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/allerac/v1/users/:id',
    { config: { access: 'admin' }, ...validatedBy({ params: IdParams }) },
    async (request, reply) => {
      if (request.principal?.id === request.params.id)
        throw new BadRequestError('you cannot remove your own account');
      if (!(await deps.accounts.deleteUser(request.params.id))) throw new HttpError(404, 'no such user');
      return reply.status(204).send();
    },
  );

  // API tokens (database) and the CLI's admin tokens (token file), with their state.
  app.get(
    '/allerac/v1/tokens',
    { config: { access: 'admin' } },
    async (): Promise<TokenList> => ({ tokens: await deps.tokens.list() }),
  );

  // The secret is shown once, in this response; only its hash is kept. A device key comes with
  // its base URLs, since that is the form a client takes it in.
  app.post<{ Body: IssueTokenBody }>(
    '/allerac/v1/tokens',
    { config: { access: 'admin' }, ...validatedBy({ body: IssueTokenBody }) },
    async (request, reply) => {
      const { name, role, expiresIn, expiresAt: until, device } = request.body;
      let expiresAt: Date | undefined;
      try {
        expiresAt = resolveExpiry({ expiresIn, expiresAt: until });
      } catch (error) {
        if (error instanceof TokenLifetimeError) throw new BadRequestError(error.message);
        throw error;
      }
      const issued: IssuedToken = await deps.tokens.issue({
        name,
        role: role ?? 'member',
        expiresAt,
        device: device === true,
      });
      if (issued.device) {
        const { origin, reachableFromLan } = originOf(request);
        issued.baseUrls = deviceBaseUrls(origin, issued.token);
        issued.reachableFromLan = reachableFromLan;
      }
      return reply.status(201).send(issued);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/allerac/v1/tokens/:id',
    { config: { access: 'admin' }, ...validatedBy({ params: IdParams }) },
    async (request, reply) => {
      if (!(await deps.tokens.revoke(request.params.id)))
        throw new HttpError(404, 'no live token with this id');
      return reply.status(204).send();
    },
  );
}
