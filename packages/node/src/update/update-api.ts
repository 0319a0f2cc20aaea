import type { FastifyInstance } from 'fastify';
import {
  type UpdateCheck,
  type UpdateSettings,
  UpdateSettingsBody,
  type UpdateStatus,
} from '../contract/update.js';
import { BadRequestError, HttpError } from '../http/errors.js';
import { validatedBy } from '../http/validate.js';
import { readSetting, writeSetting } from '../store/settings-keys.js';
import type { SettingsRepository } from '../store/settings-repository.js';
import { SOFTWARE_VERSION } from '../version.js';
import { UpdateError } from './errors.js';
import type { InstallLayout } from './install-layout.js';
import { checkForUpdate, readUpdateSettings, validateSource } from './update-source.js';
import { readUpdateState } from './updater.js';

/** What the update routes read. */
export interface UpdateApiDeps {
  settings: SettingsRepository;
  /** The native install this node runs from; undefined in Docker or a checkout. */
  layout: InstallLayout | undefined;
  fetch?: typeof fetch;
}

/**
 * /allerac/v1/update: status for the dashboard, the opt-in settings, and a check. Applying an
 * update restarts this process, so it is done by `allerac update apply`, not from inside.
 */
export function registerUpdateApi(app: FastifyInstance, deps: UpdateApiDeps): void {
  app.get('/allerac/v1/update/status', { config: { access: 'admin' } }, async (): Promise<UpdateStatus> => {
    const settings = await readUpdateSettings(deps.settings);
    const state = deps.layout === undefined ? undefined : readUpdateState(deps.layout);
    const stored = (await readSetting(deps.settings, 'update.lastCheck')) ?? null;
    const fromState = state?.lastCheck ?? null;
    const lastCheck =
      stored !== null && fromState !== null
        ? stored.at > fromState.at
          ? stored
          : fromState
        : (stored ?? fromState);
    return {
      enabled: settings.enabled,
      source: settings.source,
      currentVersion: SOFTWARE_VERSION,
      updateAvailable: lastCheck?.available === true && lastCheck.latest.version !== SOFTWARE_VERSION,
      lastCheck,
      install:
        deps.layout === undefined
          ? null
          : {
              mode: 'native',
              prefix: deps.layout.prefix,
              current: deps.layout.currentVersion() ?? null,
              versions: deps.layout.versions(),
              previous: state?.previous ?? null,
              history: state?.history.slice(-10) ?? [],
            },
    };
  });

  app.put<{ Body: UpdateSettingsBody }>(
    '/allerac/v1/update/settings',
    { config: { access: 'admin' }, ...validatedBy({ body: UpdateSettingsBody }) },
    async (request): Promise<UpdateSettings> => {
      const { enabled, source } = request.body;
      if (enabled !== undefined) await writeSetting(deps.settings, 'update.enabled', enabled);
      if (source !== undefined) {
        try {
          await writeSetting(deps.settings, 'update.source', validateSource(source));
        } catch (error) {
          if (error instanceof UpdateError) throw new BadRequestError(error.message);
          throw error;
        }
      }
      return readUpdateSettings(deps.settings);
    },
  );

  app.post('/allerac/v1/update/check', { config: { access: 'admin' } }, async (): Promise<UpdateCheck> => {
    try {
      const check = await checkForUpdate(
        await readUpdateSettings(deps.settings),
        SOFTWARE_VERSION,
        deps.fetch,
      );
      await writeSetting(deps.settings, 'update.lastCheck', check);
      return check;
    } catch (error) {
      if (error instanceof UpdateError)
        throw new HttpError(error.name === 'UpdatesDisabledError' ? 409 : 502, error.message);
      throw error;
    }
  });
}
