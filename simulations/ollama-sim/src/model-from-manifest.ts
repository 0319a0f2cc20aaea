/**
 * Turns a manifest on disk back into an installed model (GetModel in server/images.go): the text
 * layers give template, system, license, parameters and messages; the config gives the details.
 * The weights' own capabilities are not in any layer, so they come from the catalog entry of the
 * same model and tag, or are plain completion.
 */
import { weightCapabilities } from './capabilities.js';
import { MODEL_CATALOG, normalizeModelName } from './catalog.js';
import { type Layer, MEDIA_TYPES, type ModelManifest, type ModelMessage } from './manifest.js';
import { parseModelName, shortestModelName } from './model-name.js';
import type { DiskModelStore, ManifestJson } from './model-store-disk.js';
import type { InstalledModel, ModelStore } from './models.js';
import type { Capability, SimModel } from './types.js';

interface ConfigJson {
  model_family?: string;
  model_families?: string[];
  model_type?: string;
  file_type?: string;
  capabilities?: Capability[];
}

function withContent(disk: DiskModelStore, layer: Layer): Layer {
  if (layer.mediaType === MEDIA_TYPES.model) return layer;
  return { ...layer, content: disk.readBlobText(layer.digest) };
}

/** Installs the manifest `bytes` under `name`; its blobs must be on disk already. */
export function installManifest(store: ModelStore, name: string, bytes: string): InstalledModel {
  const disk = store.disk!.store;
  const json = JSON.parse(bytes) as ManifestJson;
  const layers = json.layers.map((layer) => withContent(disk, layer));
  const config = withContent(disk, json.config);
  const textOf = (type: string) => layers.filter((l) => l.mediaType === type).map((l) => l.content ?? '');
  const details = JSON.parse(config.content ?? '{}') as ConfigJson;
  const parsed = parseModelName(name);
  const catalog = MODEL_CATALOG[normalizeModelName(`${parsed.model}:${parsed.tag}`)];
  const params = textOf(MEDIA_TYPES.params)[0];
  const messages = textOf(MEDIA_TYPES.messages)[0];
  const manifest: ModelManifest = {
    layers,
    config,
    template: textOf(MEDIA_TYPES.template)[0] ?? '',
    system: textOf(MEDIA_TYPES.system)[0] ?? '',
    license: textOf(MEDIA_TYPES.license),
    parameters: params !== undefined ? (JSON.parse(params) as Record<string, unknown>) : {},
    messages: messages !== undefined ? (JSON.parse(messages) as ModelMessage[]) : [],
    declaredCapabilities: details.capabilities ?? [],
  };
  const weights = layers.find((layer) => layer.mediaType === MEDIA_TYPES.model);
  const model: SimModel = {
    ...(catalog ?? {}),
    name,
    family: details.model_family ?? catalog?.family ?? '',
    ...(details.model_families !== undefined ? { families: details.model_families } : {}),
    parameterSize: details.model_type ?? catalog?.parameterSize ?? '',
    quantization: details.file_type ?? catalog?.quantization ?? '',
    sizeBytes: [...json.layers, json.config].reduce((sum, layer) => sum + layer.size, 0),
    capabilities: weightCapabilities(catalog?.capabilities ?? ['completion']),
  };
  // Tags of one weights blob share a runner, as Ollama's scheduler keys runners by model path.
  return store.put(shortName(name), model, weights?.digest ?? name, manifest, { manifestJson: bytes });
}

/** The name as /api/tags lists it: without the default host and namespace. */
export function shortName(name: string): string {
  return normalizeModelName(shortestModelName(parseModelName(name)));
}

/** Installs every manifest on disk that is not installed yet. */
export function installFromDisk(store: ModelStore): void {
  const disk = store.disk!.store;
  for (const name of disk.listManifests()) {
    if (store.find(shortName(name)) !== undefined) continue;
    // ListHandler skips a manifest it cannot read (a missing blob, bad JSON) rather than failing.
    try {
      const found = disk.readManifest(name);
      if (found !== undefined) installManifest(store, name, found.bytes);
    } catch {}
  }
}
