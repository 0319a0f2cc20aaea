/**
 * Applies and rolls back updates of a native install: the new version is unpacked beside the
 * old, `current` is switched atomically, the service restarted and /health checked within a
 * deadline. If the check fails, `current` goes back, the pre-migration backup (taken by the new
 * version before it changed the schema) is restored, and the old version is restarted.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DEFAULT_BACKUP_SUBDIR } from '../backup/constants.js';
import { type DataLocation, restoreArchive } from '../backup/offline.js';
import { PRE_MIGRATE_PREFIX } from '../backup/pre-migrate.js';
import { UpdateError, UpdateIntegrityError, UpdateRolledBackError } from './errors.js';
import type { InstallLayout } from './install-layout.js';
import { assertVersionName } from './install-layout.js';
import type { ServiceControl } from './service-control.js';
import type { ReleaseInfo, UpdateCheck } from './update-source.js';

const run = promisify(execFile);

/** The state file in the prefix: outside the database, so a restore does not rewrite history. */
export const UPDATE_STATE_FILE = 'update-state.json';

/** One apply or rollback, as recorded. */
export interface UpdateEvent {
  at: string;
  action: 'apply' | 'rollback' | 'auto-rollback';
  from: string | null;
  to: string;
  result: 'ok' | 'rolled-back' | 'failed';
  detail?: string;
  /** When the switch began (ms since the epoch): pre-migration archives after it belong to this event. */
  since?: number;
}

/** `<prefix>/update-state.json`. */
export interface UpdateState {
  /** The version to go back to with `rollback`. */
  previous: string | null;
  lastCheck: UpdateCheck | null;
  history: UpdateEvent[];
}

/** Options of the updater. */
export interface UpdaterInit {
  layout: InstallLayout;
  /** The node's data, for restoring the pre-migration backup on a failed update. */
  data: DataLocation;
  /** The node's /health URL. */
  healthUrl: string;
  /** How long the new version has to answer /health; 2 minutes covers a slow mini-PC's start and migrations. */
  healthDeadlineMs?: number;
  /**
   * Where the package goes inside `versions/<v>/`. The installer copies the monorepo, so the node
   * sits at `packages/node`; a tarball from `npm pack` of @allerac/node is unpacked there too.
   */
  appSubdir?: string;
  /** Runs `npm install --omit=dev` in the unpacked package when it has dependencies and no node_modules. */
  installDependencies?: boolean;
}

/** What the updater uses. */
export interface UpdaterComponents {
  service: ServiceControl;
  fetch?: typeof fetch;
  log?: (message: string) => void;
}

/** The result of apply/rollback. */
export interface UpdateOutcome {
  from: string | null;
  to: string;
  healthy: boolean;
}

function readState(layout: InstallLayout): UpdateState {
  try {
    return JSON.parse(readFileSync(join(layout.prefix, UPDATE_STATE_FILE), 'utf8')) as UpdateState;
  } catch {
    return { previous: null, lastCheck: null, history: [] };
  }
}

/** Reads the update state of a prefix (empty when there is none). */
export function readUpdateState(layout: InstallLayout): UpdateState {
  return readState(layout);
}

/** Native-install updates: apply, automatic rollback, manual rollback. */
export class Updater {
  private readonly log: (message: string) => void;

  constructor(
    private readonly init: UpdaterInit,
    private readonly components: UpdaterComponents,
  ) {
    this.log = components.log ?? (() => {});
  }

  /** The update state of the prefix. */
  state(): UpdateState {
    return readState(this.init.layout);
  }

  /** Records a check's result in the state file (for the dashboard). */
  recordCheck(check: UpdateCheck): void {
    this.writeState({ ...this.state(), lastCheck: check });
  }

  private writeState(state: UpdateState): void {
    const file = join(this.init.layout.prefix, UPDATE_STATE_FILE);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ ...state, history: state.history.slice(-50) }, null, 2)}\n`);
    renameSync(tmp, file);
  }

  private record(event: Omit<UpdateEvent, 'at'>, previous?: string | null): void {
    const state = this.state();
    state.history.push({ at: new Date().toISOString(), ...event });
    if (previous !== undefined) state.previous = previous;
    this.writeState(state);
  }

  /** Downloads a release's tarball into the prefix and checks its checksum; returns the file. */
  async download(release: ReleaseInfo): Promise<string> {
    const fetchImpl = this.components.fetch ?? fetch;
    const response = await fetchImpl(release.tarball, { signal: AbortSignal.timeout(600_000) });
    if (!response.ok) throw new UpdateError(`downloading ${release.tarball} failed: HTTP ${response.status}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (release.sha256 !== undefined) {
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (actual !== release.sha256) {
        throw new UpdateIntegrityError(
          `the download's SHA-256 is ${actual}, the release says ${release.sha256}; not installing it`,
        );
      }
    } else if (release.integrity !== undefined) {
      const [algorithm = '', expected] = release.integrity.split('-', 2);
      const actual = createHash(algorithm).update(bytes).digest('base64');
      if (actual !== expected)
        throw new UpdateIntegrityError(
          `the download does not match its ${algorithm} integrity; not installing it`,
        );
    } else {
      throw new UpdateIntegrityError('the release publishes no checksum; not installing it');
    }
    mkdirSync(this.init.layout.versionsDir, { recursive: true });
    const file = join(this.init.layout.versionsDir, `.download-${process.pid}.tgz`);
    writeFileSync(file, bytes);
    return file;
  }

  /** Unpacks a package tarball (`npm pack` output) into `versions/<version>/`; returns the version. */
  async install(tarball: string): Promise<string> {
    const { layout } = this.init;
    const staging = join(layout.versionsDir, `.staging-${process.pid}`);
    const appDir = join(staging, this.init.appSubdir ?? 'packages/node');
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(appDir, { recursive: true });
    try {
      // npm pack puts everything under package/; system tar is on every supported OS.
      await run('tar', ['-xzf', tarball, '-C', appDir, '--strip-components=1'], { timeout: 300_000 });
      const pkg = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8')) as {
        version?: string;
        dependencies?: Record<string, string>;
      };
      const version = pkg.version ?? '';
      assertVersionName(version);
      if (
        this.init.installDependencies !== false &&
        Object.keys(pkg.dependencies ?? {}).length > 0 &&
        !existsSync(join(appDir, 'node_modules'))
      ) {
        this.log(`installing the dependencies of ${version}`);
        await run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund'], {
          cwd: appDir,
          timeout: 900_000,
        });
      }
      if (layout.currentVersion() === version) {
        throw new UpdateError(`version ${version} is the one running; nothing to apply`);
      }
      const target = layout.versionDir(version);
      rmSync(target, { recursive: true, force: true });
      renameSync(staging, target);
      this.log(`installed ${version} in ${target}`);
      return version;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  /** Polls /health until it answers 200 (with `version`, when given and reported), or the deadline passes. */
  async waitHealthy(
    version: string | undefined,
    deadlineMs = this.init.healthDeadlineMs ?? 120_000,
  ): Promise<boolean> {
    const fetchImpl = this.components.fetch ?? fetch;
    const deadline = Date.now() + deadlineMs;
    for (let attempt = 0; attempt < 10_000 && Date.now() < deadline; attempt += 1) {
      try {
        const response = await fetchImpl(this.init.healthUrl, { signal: AbortSignal.timeout(5_000) });
        if (response.ok) {
          const body = (await response.json().catch(() => ({}))) as { version?: string; healthy?: boolean };
          const rightVersion =
            version === undefined || body.version === undefined || body.version === version;
          if (rightVersion && body.healthy !== false) return true;
        }
      } catch {
        // not up yet
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return false;
  }

  /** Pre-migration archives written since `since` (by the new version's start-up). */
  private preMigrateSince(since: number): string | undefined {
    const dir = join(this.init.data.dataDir, DEFAULT_BACKUP_SUBDIR);
    if (!existsSync(dir)) return undefined;
    return readdirSync(dir)
      .filter((name) => name.startsWith(PRE_MIGRATE_PREFIX))
      .map((name) => join(dir, name))
      .filter((file) => statSync(file).mtimeMs >= since)
      .sort()
      .at(0);
  }

  /**
   * Installs `tarball` beside the running version and switches to it. On a failed health check
   * it rolls back by itself and throws UpdateRolledBackError.
   */
  async apply(tarball: string): Promise<UpdateOutcome> {
    const { layout } = this.init;
    const from = layout.currentVersion() ?? null;
    const to = await this.install(tarball);
    const startedAt = Date.now() - 1_000;
    layout.switchTo(to);
    this.log(`current -> ${to}; restarting (${this.components.service.description})`);
    let healthy = false;
    let detail = '';
    try {
      await this.components.service.restart();
      healthy = await this.waitHealthy(to);
      if (!healthy)
        detail = `no healthy /health from ${to} within ${(this.init.healthDeadlineMs ?? 120_000) / 1000} s`;
    } catch (error) {
      detail = (error as Error).message;
    }
    if (healthy) {
      this.record({ action: 'apply', from, to, result: 'ok', since: startedAt }, from);
      this.log(`${to} is healthy`);
      return { from, to, healthy };
    }
    if (from === null) {
      this.record({ action: 'apply', from, to, result: 'failed', detail });
      throw new UpdateError(
        `${to} did not become healthy and there is no previous version to go back to: ${detail}`,
      );
    }
    this.log(`${to} failed (${detail}); rolling back to ${from}`);
    const restored = await this.switchBack(from, this.preMigrateSince(startedAt));
    this.record({ action: 'auto-rollback', from: to, to: from, result: restored ? 'ok' : 'failed', detail });
    this.record({ action: 'apply', from, to, result: 'rolled-back', detail });
    throw new UpdateRolledBackError(
      `the update to ${to} failed (${detail}); rolled back to ${from}${restored ? '' : ', which is NOT healthy either: see the service log'}`,
    );
  }

  private async switchBack(version: string, preMigrate: string | undefined): Promise<boolean> {
    await this.components.service
      .stop()
      .catch((error: unknown) => this.log(`stop failed: ${(error as Error).message}`));
    this.init.layout.switchTo(version);
    if (preMigrate !== undefined) {
      this.log(`the schema changed: restoring ${preMigrate}`);
      await restoreArchive(readFileSync(preMigrate), this.init.data);
    }
    await this.components.service.restart();
    return this.waitHealthy(version);
  }

  /** Switches back to the version before the last apply (or `to`), restarting the node. */
  async rollback(to?: string): Promise<UpdateOutcome> {
    const { layout } = this.init;
    const from = layout.currentVersion() ?? null;
    const target = to ?? this.state().previous ?? layout.versions().find((v) => v !== from);
    if (target === undefined || target === null)
      throw new UpdateError('there is no previous version to roll back to');
    if (target === from) throw new UpdateError(`${target} is already the current version`);
    // The schema may have moved on with `from`: the old version cannot open it, so the data goes
    // back to the pre-migration archive (restore saves the replaced data as a pre-restore archive).
    const applied = [...this.state().history]
      .reverse()
      .find((e) => e.action === 'apply' && e.result === 'ok' && e.to === from);
    const preMigrate = applied?.since === undefined ? undefined : this.preMigrateSince(applied.since);
    const healthy = await this.switchBack(target, preMigrate);
    this.record({ action: 'rollback', from, to: target, result: healthy ? 'ok' : 'failed' }, from);
    if (!healthy)
      throw new UpdateError(`rolled back to ${target}, but it did not become healthy; see the service log`);
    return { from, to: target, healthy };
  }
}
