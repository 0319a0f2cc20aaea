/**
 * /allerac/v1/settings/home-assistant (admin): read and set the HA connection, and test it. The
 * token goes in and never comes out: answers say only `tokenSet`.
 */
import type { FastifyInstance } from 'fastify';
import {
  HomeAssistantSettingsBody,
  type HomeAssistantSettingsView,
  HomeAssistantTestBody,
  type HomeAssistantTestResult,
} from '../contract/home-assistant.js';
import { validatedBy } from '../http/validate.js';
import type { HomeAssistantService } from './home-assistant-service.js';

/** Registers the Home Assistant settings routes. */
export function registerHomeAssistantSettingsApi(app: FastifyInstance, service: HomeAssistantService): void {
  app.get(
    '/allerac/v1/settings/home-assistant',
    { config: { access: 'admin' } },
    async (): Promise<HomeAssistantSettingsView> => service.view(),
  );

  app.put<{ Body: HomeAssistantSettingsBody }>(
    '/allerac/v1/settings/home-assistant',
    { config: { access: 'admin' }, ...validatedBy({ body: HomeAssistantSettingsBody }) },
    async (request): Promise<HomeAssistantSettingsView> => service.save(request.body),
  );

  app.post<{ Body: HomeAssistantTestBody }>(
    '/allerac/v1/settings/home-assistant/test',
    { config: { access: 'admin' }, ...validatedBy({ body: HomeAssistantTestBody }) },
    async (request): Promise<HomeAssistantTestResult> => {
      const abort = new AbortController();
      // A test for a browser that left need not wait for HA.
      request.raw.once('close', () => abort.abort());
      return service.test(request.body, abort.signal);
    },
  );
}
