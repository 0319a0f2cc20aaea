import { totalmem } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { AccountService } from '../accounts/account-service.js';
import { normalizeAgentName } from '../agent-name.js';
import type { Backend } from '../backend/backend.js';
import { isEmbeddingModel } from '../backend/model-capabilities.js';
import { JoinBody } from '../contract/management.js';
import type { Ok } from '../contract/schema.js';
import {
  type NodeSettings,
  type Recommendation,
  SetupCompleteBody,
  type SetupJoined,
} from '../contract/setup.js';
import { HttpError } from '../http/errors.js';
import { validatedBy } from '../http/validate.js';
import type { Identity } from '../node-identity.js';
import { storedSettings, writeSetting } from '../store/settings-keys.js';
import type { SettingsRepository } from '../store/settings-repository.js';
import { fitsTier, recommendModels } from './recommendation.js';

/** What the setup routes need. */
export interface SetupRoutesDeps {
  accounts: AccountService;
  settings: SettingsRepository;
  backend: Backend;
  /** The memory service, which embeds with the model the wizard chooses (and re-embeds for it). */
  memory: { setEmbeddingModel(model: string): Promise<unknown> };
  /** Joins a home mesh through an invitation code when the mesh supports it at runtime. */
  joinMesh?: ((code: string) => Promise<unknown>) | undefined;
  /** The node's live name and specialisations: the wizard's choice applies at once. */
  identity: { update(next: Partial<Identity>): void };
}

/** /allerac/v1/setup/*: steps 2-5 of the wizard, run by the admin the first step created. */
export function registerSetupRoutes(app: FastifyInstance, deps: SetupRoutesDeps): void {
  app.get(
    '/allerac/v1/setup/recommendation',
    { config: { access: 'admin' } },
    async (): Promise<Recommendation> => {
      const recommendation = recommendModels(totalmem());
      const installed = deps.backend.health().state === 'up' ? await deps.backend.list().catch(() => []) : [];
      return {
        ...recommendation,
        installed: installed.map((model) => ({
          name: model.name,
          size: model.size,
          parameterSize: model.details.parameter_size ?? null,
          family: model.details.family ?? null,
          embedding: isEmbeddingModel(model),
          fits: fitsTier(model.details.parameter_size, recommendation.tier),
        })),
      };
    },
  );

  app.post<{ Body: SetupCompleteBody }>(
    '/allerac/v1/setup/complete',
    { config: { access: 'admin' }, ...validatedBy({ body: SetupCompleteBody }) },
    async (request): Promise<Ok> => {
      const { body } = request;
      const agentName = normalizeAgentName(body.agentName);
      if ((await deps.accounts.setupState()).complete) await deps.accounts.completeSetup(); // throws 409
      const specializations = [...new Set(body.specializations ?? [])];
      await writeSetting(deps.settings, 'agent.name', agentName);
      await writeSetting(deps.settings, 'agent.specializations', specializations);
      deps.identity.update({ name: agentName, specializations });
      if (body.chatModel != null) await writeSetting(deps.settings, 'ui.chatModel', body.chatModel);
      if (body.embeddingModel != null) await deps.memory.setEmbeddingModel(body.embeddingModel);
      if (body.language != null) await writeSetting(deps.settings, 'ui.language', body.language);
      await deps.accounts.completeSetup();
      return { ok: true };
    },
  );

  // Only the settings of the registry: the table may hold retired keys, such as the mesh key.
  app.get(
    '/allerac/v1/settings',
    { config: { access: 'admin' } },
    async (): Promise<NodeSettings> => storedSettings(deps.settings),
  );

  // The code goes to the mesh, which redeems it with the inviter; neither it nor the key it brings
  // is written to settings, which cleartext backups carry. Its errors are domain errors (400, 502).
  app.post<{ Body: JoinBody }>(
    '/allerac/v1/setup/join',
    { config: { access: 'admin' }, ...validatedBy({ body: JoinBody }) },
    async (request): Promise<SetupJoined> => {
      if (deps.joinMesh === undefined)
        throw new HttpError(409, 'this node cannot join a home while it runs; start it with --join CODE');
      await deps.joinMesh(request.body.code);
      return { joined: true, restartRequired: false };
    },
  );
}
