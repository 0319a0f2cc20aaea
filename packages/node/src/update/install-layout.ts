/**
 * The native install layout (shared with deploy/install.sh):
 * `<prefix>/versions/<version>/` holds each installed version, `<prefix>/current` is a symlink to
 * the one that runs, and the data lives outside, in `<prefix>/data` or the configured data dir.
 */
import { existsSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import { NotAnInstallError, UpdateError } from './errors.js';

/** Versions become directory names, so only plain version characters are accepted. */
const VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z.+-]{0,63}$/;

/** Throws unless `version` is safe as a directory name. */
export function assertVersionName(version: string): void {
  if (!VERSION_PATTERN.test(version) || version.includes('..')) {
    throw new UpdateError(`"${version}" is not a usable version string`);
  }
}

/**
 * Orders versions by semver precedence (1.10.0 > 1.9.0, rc.10 > rc.9, a pre-release before its
 * release). A string that is not a version sorts before every version, so a stray directory in
 * `versions/` is never taken for the newest.
 */
export function compareVersions(a: string, b: string): number {
  const validA = semver.valid(a) !== null;
  const validB = semver.valid(b) !== null;
  if (validA && validB) return semver.compare(a, b);
  if (validA !== validB) return validA ? 1 : -1;
  return Math.sign(a.localeCompare(b));
}

/** One native install prefix. */
export class InstallLayout {
  readonly versionsDir: string;
  readonly currentLink: string;

  constructor(readonly prefix: string) {
    this.prefix = resolve(prefix);
    this.versionsDir = join(this.prefix, 'versions');
    this.currentLink = join(this.prefix, 'current');
  }

  /** The directory of one version. */
  versionDir(version: string): string {
    assertVersionName(version);
    return join(this.versionsDir, version);
  }

  /** The version `current` points at, or undefined before the first install. */
  currentVersion(): string | undefined {
    try {
      return basename(readlinkSync(this.currentLink));
    } catch {
      return undefined;
    }
  }

  /** Installed versions, newest first (staging directories excluded). */
  versions(): string[] {
    if (!existsSync(this.versionsDir)) return [];
    return readdirSync(this.versionsDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && VERSION_PATTERN.test(e.name) && !e.name.endsWith('.old'))
      .map((e) => e.name)
      .sort((a, b) => compareVersions(b, a));
  }

  /**
   * Points `current` at a version atomically: a new symlink is made beside it and renamed over
   * it, so there is no moment without a `current`.
   */
  switchTo(version: string): void {
    const dir = this.versionDir(version);
    if (!existsSync(dir)) throw new UpdateError(`version ${version} is not installed in ${this.versionsDir}`);
    const tmp = `${this.currentLink}.${process.pid}.tmp`;
    rmSync(tmp, { force: true });
    symlinkSync(join('versions', version), tmp);
    renameSync(tmp, this.currentLink);
  }
}

/**
 * Finds the install prefix a running program lives in: `ALLERAC_PREFIX`, else the ancestor of
 * `fromDir` whose parent is `versions` beside a `current` link. Undefined outside a native install.
 */
export function detectInstallLayout(
  fromDir: string,
  env: NodeJS.ProcessEnv = process.env,
): InstallLayout | undefined {
  if (env.ALLERAC_PREFIX !== undefined && env.ALLERAC_PREFIX !== '')
    return new InstallLayout(env.ALLERAC_PREFIX);
  let at = resolve(fromDir);
  for (let depth = 0; depth < 12; depth += 1) {
    const parent = dirname(at);
    if (parent === at) return undefined;
    if (basename(parent) === 'versions' && existsSync(join(dirname(parent), 'current'))) {
      return new InstallLayout(dirname(parent));
    }
    at = parent;
  }
  return undefined;
}

/** Like detectInstallLayout, but throws a clear error when there is no native install. */
export function requireInstallLayout(fromDir: string, prefix?: string): InstallLayout {
  if (prefix !== undefined) return new InstallLayout(prefix);
  const layout = detectInstallLayout(fromDir);
  if (layout === undefined) {
    throw new NotAnInstallError(
      'this allerac is not a native install (no <prefix>/versions and current link); pass --prefix, ' +
        'or in Docker mode change the pinned image tag instead (docs/updates.md)',
    );
  }
  return layout;
}

/** The native install this very program runs from, if any. */
export function detectOwnInstallLayout(): InstallLayout | undefined {
  return detectInstallLayout(dirname(fileURLToPath(import.meta.url)));
}
