/**
 * POST /api/pull (PullHandler, PullModel in server/images.go, downloadBlob in server/download.go):
 * `pulling manifest`, then each layer (weights, template, license, params, config) as
 * `pulling <12 hex>` with total and completed, then `verifying sha256 digest`, `writing manifest`
 * and `success`. Layers arrive at the profile's download speed; a blob already present is one line
 * at 100%. Only catalog models exist upstream: any other name fails as the registry's 404 does,
 * and nothing is added to the model list unless the pull completes.
 */
import type { ServerResponse } from 'node:http';
import { MODEL_CATALOG, normalizeModelName, weightsName } from './catalog.js';
import type { ClientWatch } from './client-watch.js';
import { OllamaApiError } from './errors.js';
import { type JsonObject, optionalBool, optionalString } from './http-util.js';
import type { Layer } from './manifest.js';
import { INVALID_MODEL_NAME, validModelRef } from './model-lookup.js';
import { parseModelName } from './model-name.js';
import type { InstalledModel } from './models.js';
import { ProgressStream } from './progress.js';
import { pullFromRegistry } from './registry-pull.js';
import type { SimState } from './state.js';

/** Download speed when the profile names none. */
export const DEFAULT_DOWNLOAD_BYTES_PER_SECOND = 4e9;
/** blobDownload.Wait reports progress on this tick. */
export const PULL_PROGRESS_INTERVAL_MS = 60;

/** Downloads one layer, or reports it present; false when the client left. */
async function pullLayer(state: SimState, progress: ProgressStream, layer: Layer): Promise<boolean> {
  const status = `pulling ${layer.digest.slice(7, 19)}`;
  if (state.store.blobs.has(layer.digest)) {
    progress.emit({ status, digest: layer.digest, total: layer.size, completed: layer.size });
    return true;
  }
  const speed = state.profile.downloadBytesPerSecond ?? DEFAULT_DOWNLOAD_BYTES_PER_SECOND;
  const started = performance.now();
  let completed = 0;
  while (completed < layer.size) {
    if (!(await progress.pause(PULL_PROGRESS_INTERVAL_MS))) return false;
    completed = Math.min(layer.size, Math.floor(((performance.now() - started) / 1000) * speed));
    progress.emit({ status, digest: layer.digest, total: layer.size, completed });
  }
  // A finished blob stays, as Ollama's download goes on after its client leaves.
  state.store.storeLayer(layer);
  return true;
}

/**
 * PullModel: streams the progress of pulling `name` into `progress` and installs it. Undefined when
 * the client left; an OllamaApiError (500) when the registry has no such model.
 */
export async function pullModel(
  state: SimState,
  progress: ProgressStream,
  name: string,
  insecure = false,
): Promise<InstalledModel | undefined> {
  const parsed = parseModelName(name.trim());
  // With a store on disk, a name on another host is pulled from that host's registry.
  if (state.store.disk !== undefined && parsed.host.toLowerCase() !== 'registry.ollama.ai') {
    return pullFromRegistry(state, progress, parsed, insecure);
  }
  const normalized = normalizeModelName(name);
  progress.emit({ status: 'pulling manifest' });
  if (!(await progress.pause(PULL_PROGRESS_INTERVAL_MS))) return undefined;
  const model = MODEL_CATALOG[normalized];
  // makeRequestWithRetry turns the registry's 404 into os.ErrNotExist.
  if (model === undefined) throw new OllamaApiError(500, 'pull model manifest: file does not exist');
  const weights = weightsName(normalized);
  const manifest = state.store.libraryManifest(model, weights);
  for (const layer of [...manifest.layers, manifest.config]) {
    if (!(await pullLayer(state, progress, layer))) return undefined;
  }
  progress.emit({ status: 'verifying sha256 digest' });
  progress.emit({ status: 'writing manifest' });
  const previous = state.store.find(normalized);
  const pulled = new Set([...manifest.layers, manifest.config].map((layer) => layer.digest));
  const entry = state.store.install(model, weights, normalized);
  // The layers of the manifest this one replaced are pruned (deleteUnusedLayers).
  if (
    previous !== undefined &&
    [...previous.layers, previous.config].some((layer) => !pulled.has(layer.digest))
  ) {
    progress.emit({ status: 'removing unused layers' });
  }
  progress.emit({ status: 'success' });
  return entry;
}

/** POST /api/pull. */
export async function handlePull(
  state: SimState,
  res: ServerResponse,
  client: ClientWatch,
  body: JsonObject,
): Promise<void> {
  const model = optionalString(body, 'model', 'PullRequest') ?? '';
  const requested = model !== '' ? model : (optionalString(body, 'name', 'PullRequest') ?? '');
  const name = validModelRef(requested, () => new OllamaApiError(400, INVALID_MODEL_NAME));
  const stream = optionalBool(body, 'stream', 'PullRequest') ?? true;
  const insecure = optionalBool(body, 'insecure', 'PullRequest') ?? false;
  const progress = new ProgressStream(state, res, client, stream);
  await progress.run(async () => (await pullModel(state, progress, name, insecure)) !== undefined);
}
