import { totalmem } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { AccountService } from '../accounts/account-service.js';
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
import { BadRequestError, HttpError } from '../http/errors.js';
import { validatedBy } from '../http/validate.js';
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
  /** Joins a home mesh with a join code when the mesh supports it at runtime. */
  joinMesh?: ((code: string) => Promise<void>) | undefined;
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
      const agentName = body.agentName.trim();
      if (agentName === '') throw new BadRequestError('agentName must be a name, not only spaces');
      if ((await deps.accounts.setupState()).complete) await deps.accounts.completeSetup(); // throws 409
      await writeSetting(deps.settings, 'agent.name', agentName);
      await writeSetting(deps.settings, 'agent.specializations', [...new Set(body.specializations ?? [])]);
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

  // The code is the mesh key itself: it goes to the mesh (and its key file), never to settings,
  // which cleartext backups carry.
  app.post<{ Body: JoinBody }>(
    '/allerac/v1/setup/join',
    { config: { access: 'admin' }, ...validatedBy({ body: JoinBody }) },
    async (request): Promise<SetupJoined> => {
      const code = request.body.code.trim();
      if (deps.joinMesh === undefined)
        throw new HttpError(409, 'this node cannot join a home while it runs; start it with --join CODE');
      try {
        await deps.joinMesh(code);
      } catch (error) {
        // A mistyped code is the caller's error, not the node's.
        if ((error as Error).name === 'JoinCodeError') throw new BadRequestError((error as Error).message);
        throw error;
      }
      return { joined: true, restartRequired: false };
    },
  );
}
