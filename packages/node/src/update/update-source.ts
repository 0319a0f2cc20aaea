/**
 * Where updates come from, and the check. The check is opt-in (`update.enabled`, off by default):
 * nothing leaves the home unless the user allows it.
 */
import semver from 'semver';
import type { ReleaseInfo, UpdateCheck, UpdateSettings, UpdateSource } from '../contract/update.js';
import { readSetting, SETTING_DEFAULTS, type SettingKey } from '../store/settings-keys.js';
import type { SettingsRepository } from '../store/settings-repository.js';
import { UpdateError, UpdatesDisabledError } from './errors.js';
import { compareVersions } from './install-layout.js';

export type { ReleaseInfo, UpdateCheck, UpdateSource } from '../contract/update.js';

/** Settings keys of updates (store/settings-keys.ts holds their types and defaults). */
export const UPDATE_SETTINGS = {
  enabled: 'update.enabled',
  source: 'update.source',
  lastCheck: 'update.lastCheck',
} as const satisfies Record<string, SettingKey>;

/** The default source: the public npm package. */
export const DEFAULT_UPDATE_SOURCE: UpdateSource = SETTING_DEFAULTS['update.source'];

export type { UpdateSettings } from '../contract/update.js';

/** Reads the update settings. */
export async function readUpdateSettings(settings: SettingsRepository): Promise<UpdateSettings> {
  return {
    enabled: await readSetting(settings, UPDATE_SETTINGS.enabled),
    source: await readSetting(settings, UPDATE_SETTINGS.source),
  };
}

/** Validates a source given by a user or a request. */
export function validateSource(input: unknown): UpdateSource {
  const source = input as Partial<UpdateSource> | undefined;
  if (source?.kind === 'url' && typeof source.url === 'string' && /^https?:\/\//.test(source.url)) {
    return { kind: 'url', url: source.url };
  }
  if (source?.kind === 'npm' && typeof source.package === 'string' && source.package !== '') {
    const registry = (source as { registry?: unknown }).registry;
    return {
      kind: 'npm',
      package: source.package,
      ...(typeof registry === 'string' && /^https?:\/\//.test(registry) ? { registry } : {}),
    };
  }
  throw new UpdateError('an update source is {kind:"npm", package} or {kind:"url", url: "https://..."}');
}

async function getJson(url: string, fetchImpl: typeof fetch): Promise<Record<string, unknown>> {
  // An unreachable source or a body that is not JSON is the source's failure, reported as such
  // (a 502 at the edge), never the node's own error.
  let response: Response;
  try {
    response = await fetchImpl(url, {
      signal: AbortSignal.timeout(30_000),
      headers: { accept: 'application/json' },
    });
  } catch (error) {
    throw new UpdateError(`cannot reach the update source ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new UpdateError(`${url} answered HTTP ${response.status}`);
  try {
    return (await response.json()) as Record<string, unknown>;
  } catch {
    throw new UpdateError(`${url} did not answer with JSON`);
  }
}

/** A release is compared with the running version, so it must be one semver can order. */
function assertReleaseVersion(version: string, from: string): void {
  if (semver.valid(version) === null) {
    throw new UpdateError(`${from} offers "${version}", which is not a semantic version (such as 1.4.0)`);
  }
}

/** Asks the source for its latest release. */
export async function fetchLatestRelease(
  source: UpdateSource,
  fetchImpl: typeof fetch = fetch,
): Promise<ReleaseInfo> {
  if (source.kind === 'url') {
    const manifest = await getJson(source.url, fetchImpl);
    const { version, tarball, sha256 } = manifest;
    if (typeof version !== 'string' || typeof tarball !== 'string' || typeof sha256 !== 'string') {
      throw new UpdateError(`${source.url} is not a release manifest ({version, tarball, sha256})`);
    }
    assertReleaseVersion(version, source.url);
    return { version, tarball: new URL(tarball, source.url).toString(), sha256: sha256.toLowerCase() };
  }
  const registry = (source.registry ?? 'https://registry.npmjs.org').replace(/\/$/, '');
  const latest = await getJson(`${registry}/${source.package.replace('/', '%2f')}/latest`, fetchImpl);
  const dist = latest.dist as { tarball?: string; integrity?: string } | undefined;
  if (typeof latest.version !== 'string' || typeof dist?.tarball !== 'string') {
    throw new UpdateError(`the registry has no usable latest release of ${source.package}`);
  }
  assertReleaseVersion(latest.version, registry);
  return {
    version: latest.version,
    tarball: dist.tarball,
    ...(dist.integrity ? { integrity: dist.integrity } : {}),
  };
}

/** The opt-in check: refuses when updates are off, else compares the latest release with `current`. */
export async function checkForUpdate(
  settings: UpdateSettings,
  current: string,
  fetchImpl: typeof fetch = fetch,
): Promise<UpdateCheck> {
  if (!settings.enabled) {
    throw new UpdatesDisabledError(
      'update checks are off: nothing leaves your home unless you allow it. ' +
        'Turn them on with `allerac update enable` (optionally --url <manifest> or --npm <package>)',
    );
  }
  const latest = await fetchLatestRelease(settings.source, fetchImpl);
  return {
    at: new Date().toISOString(),
    current,
    latest,
    available: compareVersions(latest.version, current) > 0,
  };
}
