/**
 * PATCH /allerac/v1/settings: the Settings page's changes, applied while the node runs. The name
 * and specialisations go to the node's identity (the mesh re-publishes its card), the embedding
 * model to the memory service, the Ollama URL to the backend; serving the home network changes
 * the listen address, so it is stored for the next start and the answer says a restart is due.
 */
import type { FastifyInstance } from 'fastify';
import { normalizeAgentName } from '../agent-name.js';
import { parseOllamaUrl } from '../backend/ollama-backend.js';
import { SettingsPatchBody, type SettingsUpdated } from '../contract/setup.js';
import { InvalidInputError } from '../errors.js';
import { validatedBy } from '../http/validate.js';
import type { Identity } from '../node-identity.js';
import { storedSettings, writeSetting } from '../store/settings-keys.js';
import type { SettingsRepository } from '../store/settings-repository.js';

/** The listen address every interface gets when the node serves the home network. */
export const LAN_HOST = '0.0.0.0';
/** The listen address of a node that serves this machine only. */
export const LOOPBACK_HOST = '127.0.0.1';

/** What the settings route changes. */
export interface SettingsRoutesDeps {
  settings: SettingsRepository;
  /** The node's live name and specialisations. */
  identity: { update(next: Partial<Identity>): void };
  /** The memory service, which re-embeds for a new embedding model. */
  memory: { setEmbeddingModel(model: string): Promise<unknown> };
  /** The backend, which moves to another Ollama without a restart. */
  backend: { setUrl(url: string): Promise<void> };
  /** The address HTTP listens on now, and whether --http-host fixed it (Settings then cannot). */
  http: { host: string; hostExplicit: boolean };
  /** This machine's wake flags in its card (wake/local-wake-card.ts); absent, they are only stored. */
  wake?: { set(next: { wakeOnLan?: boolean; preferredWhenOn?: boolean }): Promise<void> } | undefined;
}

/** Where HTTP listens at start: --http-host when given, else what Settings' `http.serveLan` says. */
export function httpHostAtStart(
  flagHost: string,
  hostExplicit: boolean,
  serveLan: boolean | undefined,
): string {
  if (hostExplicit || serveLan === undefined) return flagHost;
  return serveLan ? LAN_HOST : LOOPBACK_HOST;
}

/** Registers PATCH /allerac/v1/settings (admins only). */
export function registerSettingsRoutes(app: FastifyInstance, deps: SettingsRoutesDeps): void {
  app.patch<{ Body: SettingsPatchBody }>(
    '/allerac/v1/settings',
    { config: { access: 'admin' }, ...validatedBy({ body: SettingsPatchBody }) },
    async (request): Promise<SettingsUpdated> => {
      const { body } = request;
      if (Object.keys(body).length === 0) {
        throw new InvalidInputError('the body must name at least one setting to change', { param: 'body' });
      }
      // Everything is checked before anything is written, so a bad field changes nothing.
      const agentName = body.agentName === undefined ? undefined : normalizeAgentName(body.agentName);
      const ollamaUrl = body.ollamaUrl === undefined ? undefined : parseOllamaUrl(body.ollamaUrl);
      const specializations =
        body.specializations === undefined ? undefined : [...new Set(body.specializations)];

      if (agentName !== undefined) await writeSetting(deps.settings, 'agent.name', agentName);
      if (specializations !== undefined)
        await writeSetting(deps.settings, 'agent.specializations', specializations);
      if (agentName !== undefined || specializations !== undefined) {
        deps.identity.update({
          ...(agentName === undefined ? {} : { name: agentName }),
          ...(specializations === undefined ? {} : { specializations }),
        });
      }
      if (body.chatModel !== undefined) await writeSetting(deps.settings, 'ui.chatModel', body.chatModel);
      if (body.embeddingModel !== undefined) await deps.memory.setEmbeddingModel(body.embeddingModel);
      if (body.language !== undefined) await writeSetting(deps.settings, 'ui.language', body.language);
      if (ollamaUrl !== undefined) {
        await writeSetting(deps.settings, 'backend.ollamaUrl', ollamaUrl);
        await deps.backend.setUrl(ollamaUrl);
      }
      if (body.wakeEnabled !== undefined) await writeSetting(deps.settings, 'wake.enabled', body.wakeEnabled);
      if (body.patienceMs !== undefined)
        await writeSetting(deps.settings, 'routing.patienceMs', body.patienceMs);
      if (body.prewarm !== undefined) await writeSetting(deps.settings, 'routing.prewarm', body.prewarm);
      if (body.wakeOnLan !== undefined || body.preferredWhenOn !== undefined) {
        const flags = {
          ...(body.wakeOnLan === undefined ? {} : { wakeOnLan: body.wakeOnLan }),
          ...(body.preferredWhenOn === undefined ? {} : { preferredWhenOn: body.preferredWhenOn }),
        };
        if (deps.wake !== undefined) await deps.wake.set(flags);
        else {
          if (flags.wakeOnLan !== undefined)
            await writeSetting(deps.settings, 'wake.wakeOnLan', flags.wakeOnLan);
          if (flags.preferredWhenOn !== undefined)
            await writeSetting(deps.settings, 'wake.preferredWhenOn', flags.preferredWhenOn);
        }
      }
      let restartRequired = false;
      if (body.serveLan !== undefined) {
        await writeSetting(deps.settings, 'http.serveLan', body.serveLan);
        const next = httpHostAtStart(deps.http.host, deps.http.hostExplicit, body.serveLan);
        restartRequired = next !== deps.http.host;
      }
      return { settings: await storedSettings(deps.settings), restartRequired };
    },
  );
}
