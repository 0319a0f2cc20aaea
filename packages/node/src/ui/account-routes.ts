import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AccountService } from '../accounts/account-service.js';
import { generateToken, hashToken } from '../auth/api-tokens.js';
import { BadRequestError, HttpError } from '../http/errors.js';
import type { TokenRepository } from '../store/token-repository.js';
import { languageField, objectBody, stringField } from './body.js';

/** What the account routes need. */
export interface AccountRoutesDeps {
  accounts: AccountService;
  tokens: TokenRepository;
}

const roleField = (body: Record<string, unknown>) => {
  const role = body.role ?? 'member';
  if (role !== 'admin' && role !== 'member') throw new BadRequestError('"role" must be "admin" or "member"');
  return role;
};

/** /allerac/v1/me, /users and /tokens: the signed-in user, accounts (admin) and API tokens (admin). */
export function registerAccountRoutes(app: FastifyInstance, deps: AccountRoutesDeps): void {
  app.get('/allerac/v1/me', { config: { access: 'signed-in' } }, async (request) => ({
    principal: request.principal ?? null,
  }));

  app.patch('/allerac/v1/me', { config: { access: 'signed-in' } }, async (request) => {
    const body = objectBody(request.body);
    const principal = request.principal;
    if (principal?.kind !== 'session' || principal.id === undefined)
      throw new BadRequestError('only a signed-in user has preferences');
    const language = languageField(body);
    if (language !== undefined) await deps.accounts.setLanguage(principal.id, language);
    return { ok: true };
  });

  app.post('/allerac/v1/me/password', { config: { access: 'signed-in' } }, async (request, reply) => {
    const body = objectBody(request.body);
    const principal = request.principal;
    if (principal?.kind !== 'session' || principal.id === undefined)
      throw new BadRequestError('only a signed-in user has a password');
    await deps.accounts.changePassword(
      principal.id,
      stringField(body, 'currentPassword', 1024),
      stringField(body, 'newPassword', 1024),
    );
    return reply.status(204).send();
  });

  app.get('/allerac/v1/users', { config: { access: 'admin' } }, async (_request) => {
    return { users: await deps.accounts.listUsers() };
  });

  app.post('/allerac/v1/users', { config: { access: 'admin' } }, async (request, reply) => {
    const body = objectBody(request.body);
    const user = await deps.accounts.createUser(
      stringField(body, 'username', 64),
      stringField(body, 'password', 1024),
      roleField(body),
      languageField(body) ?? 'en',
    );
    return reply.status(201).send({ user });
  });

  app.delete<{ Params: { id: string } }>(
    '/allerac/v1/users/:id',
    { config: { access: 'admin' } },
    async (request, reply) => {
      if (request.principal?.id === request.params.id)
        throw new BadRequestError('you cannot remove your own account');
      if (!(await deps.accounts.deleteUser(request.params.id))) throw new HttpError(404, 'no such user');
      return reply.status(204).send();
    },
  );

  app.get('/allerac/v1/tokens', { config: { access: 'admin' } }, async (_request) => {
    return { tokens: await deps.tokens.list() };
  });

  // The secret is shown once, in this response; only its hash is kept.
  app.post('/allerac/v1/tokens', { config: { access: 'admin' } }, async (request, reply) => {
    const body = objectBody(request.body);
    const token = generateToken();
    const id = randomUUID();
    const name = stringField(body, 'name', 100);
    const role = roleField(body);
    await deps.tokens.insert({ id, name, hash: hashToken(token), role });
    return reply.status(201).send({ id, name, role, token });
  });

  app.delete<{ Params: { id: string } }>(
    '/allerac/v1/tokens/:id',
    { config: { access: 'admin' } },
    async (request, reply) => {
      if (!(await deps.tokens.revoke(request.params.id)))
        throw new HttpError(404, 'no live token with this id');
      return reply.status(204).send();
    },
  );
}
