/**
 * Ollama's models directory as this node reads it to share models: where it is, whether it can be
 * read, and a mapping from names and digests to files that can never leave it.
 */
import { constants, existsSync } from 'node:fs';
import { access, realpath } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Where Ollama keeps its models (envconfig.Models): OLLAMA_MODELS, else `~/.ollama/models`. */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env, home = homedir()): string {
  const fromEnv = env.OLLAMA_MODELS?.trim();
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return join(home, '.ollama', 'models');
}

/**
 * The directory of Ollama's Linux service (install.sh runs it as the `ollama` user whose home is
 * /usr/share/ollama), tried when the current user's own has nothing.
 */
export const LINUX_SERVICE_MODELS_DIR = '/usr/share/ollama/.ollama/models';

/**
 * The directory to share: the flag, else OLLAMA_MODELS, else the user's `~/.ollama/models`, else
 * the Linux service's when only that one exists (a node run by another user beside the service).
 */
export function chooseModelsDir(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  exists: (path: string) => boolean = existsSync,
  home = homedir(),
): string {
  if (explicit !== undefined) return resolve(explicit);
  const fallback = defaultModelsDir(env, home);
  if (env.OLLAMA_MODELS?.trim() || exists(fallback)) return fallback;
  return exists(LINUX_SERVICE_MODELS_DIR) ? LINUX_SERVICE_MODELS_DIR : fallback;
}

/** Why sharing is or is not possible, as /health says it. */
export type ModelsDirStatus =
  | { readable: true; dir: string }
  | { readable: false; dir: string; reason: string; why: string };

/** The status as /health shows it to anyone: the reason without the path, which names the user. */
export function sharingStatus(status: ModelsDirStatus): { sharing: boolean; reason?: string } {
  if (status.readable) return { sharing: true };
  return { sharing: false, reason: status.why };
}

const PART = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$/;
const HOST = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,349}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A manifest name as its path parts: `<host>/<namespace>/<model>/<tag>`. */
export interface ManifestName {
  host: string;
  namespace: string;
  model: string;
  tag: string;
}

/** The models directory, read-only. */
export class ModelsDirectory {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** Whether the manifests and blobs can be read, and why not. */
  async status(): Promise<ModelsDirStatus> {
    for (const sub of ['manifests', 'blobs']) {
      try {
        await access(join(this.dir, sub), constants.R_OK | constants.X_OK);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const what =
          code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable by this user' : code;
        return {
          readable: false,
          dir: this.dir,
          reason: `${join(this.dir, sub)} ${what}`,
          why: `the Ollama models directory's ${sub} ${what} (set --ollama-models-dir)`,
        };
      }
    }
    return { readable: true, dir: this.dir };
  }

  /** The manifest's file, or undefined for a name that could reach outside the directory. */
  manifestPath(name: ManifestName): string | undefined {
    const { host, namespace, model, tag } = name;
    if (
      !HOST.test(host) ||
      host.includes('..') ||
      !PART.test(namespace) ||
      !PART.test(model) ||
      !TAG.test(tag)
    ) {
      return undefined;
    }
    return this.inside(join(this.dir, 'manifests', host, namespace, model, tag));
  }

  /** The blob's file (`blobs/sha256-<hex>`), or undefined for anything but a sha256 digest. */
  blobPath(digest: string): string | undefined {
    if (!DIGEST.test(digest)) return undefined;
    return this.inside(join(this.dir, 'blobs', digest.replace(':', '-')));
  }

  /**
   * Follows symbolic links (Ollama itself never makes any) and refuses a file that then lies
   * outside the directory; undefined for a missing file too.
   */
  async realFile(path: string): Promise<string | undefined> {
    try {
      const [root, real] = await Promise.all([realpath(this.dir), realpath(path)]);
      return isInside(root, real) ? real : undefined;
    } catch {
      return undefined;
    }
  }

  private inside(path: string): string | undefined {
    return isInside(this.dir, path) ? path : undefined;
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}
