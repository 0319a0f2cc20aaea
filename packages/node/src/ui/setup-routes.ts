import { totalmem } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { AccountService } from '../accounts/account-service.js';
import type { Backend } from '../backend/backend.js';
import { isEmbeddingModel } from '../backend/model-capabilities.js';
import { BadRequestError } from '../http/errors.js';
import type { SettingsRepository } from '../store/settings-repository.js';
import { languageField, objectBody, optionalString, stringField } from './body.js';
import { fitsTier, recommendModels } from './recommendation.js';

/** The specializations an agent can declare; the router weighs them when placing tasks. */
export const SPECIALIZATIONS = ['code', 'research', 'creative', 'home'] as const;

/** Settings the wizard writes. */
export const SETTING_KEYS = {
  agentName: 'agent.name',
  specializations: 'agent.specializations',
  chatModel: 'models.chat',
  embeddingModel: 'models.embedding',
  language: 'ui.language',
  meshJoinCode: 'mesh.joinCode',
} as const;

/** What the setup routes need. */
export interface SetupRoutesDeps {
  accounts: AccountService;
  settings: SettingsRepository;
  backend: Backend;
  /** Joins a home mesh with a join code when the mesh supports it at runtime. */
  joinMesh?: ((code: string) => Promise<void>) | undefined;
}

/** /allerac/v1/setup/*: steps 2-5 of the wizard, run by the admin the first step created. */
export function registerSetupRoutes(app: FastifyInstance, deps: SetupRoutesDeps): void {
  app.get('/allerac/v1/setup/recommendation', { config: { access: 'admin' } }, async (_request) => {
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
  });

  app.post('/allerac/v1/setup/complete', { config: { access: 'admin' } }, async (request) => {
    const body = objectBody(request.body);
    const agentName = stringField(body, 'agentName', 64).trim();
    const specializations = body.specializations ?? [];
    if (
      !Array.isArray(specializations) ||
      !specializations.every((s) => (SPECIALIZATIONS as readonly unknown[]).includes(s))
    ) {
      throw new BadRequestError(`"specializations" must be a list drawn from ${SPECIALIZATIONS.join(', ')}`);
    }
    const chatModel = optionalString(body, 'chatModel', 200);
    const embeddingModel = optionalString(body, 'embeddingModel', 200);
    const language = languageField(body);
    if ((await deps.accounts.setupState()).complete) await deps.accounts.completeSetup(); // throws 409
    await deps.settings.set(SETTING_KEYS.agentName, agentName);
    await deps.settings.set(SETTING_KEYS.specializations, [...new Set(specializations)]);
    if (chatModel !== undefined) await deps.settings.set(SETTING_KEYS.chatModel, chatModel);
    if (embeddingModel !== undefined) await deps.settings.set(SETTING_KEYS.embeddingModel, embeddingModel);
    if (language !== undefined) await deps.settings.set(SETTING_KEYS.language, language);
    await deps.accounts.completeSetup();
    return { ok: true };
  });

  app.get('/allerac/v1/settings', { config: { access: 'admin' } }, async (_request) => {
    const all = await deps.settings.all();
    return Object.fromEntries(Object.entries(all).filter(([key]) => key !== SETTING_KEYS.meshJoinCode));
  });

  // Joining adopts the other mesh's key; without a live hook it takes effect at the next start.
  app.post('/allerac/v1/setup/join', { config: { access: 'admin' } }, async (request) => {
    const code = stringField(objectBody(request.body), 'code', 4096).trim();
    await deps.settings.set(SETTING_KEYS.meshJoinCode, code);
    if (deps.joinMesh !== undefined) {
      try {
        await deps.joinMesh(code);
      } catch (error) {
        // A mistyped code is the caller's error, not the node's.
        if ((error as Error).name === 'JoinCodeError') throw new BadRequestError((error as Error).message);
        throw error;
      }
      return { joined: true, restartRequired: false };
    }
    return { joined: false, restartRequired: true };
  });
}
