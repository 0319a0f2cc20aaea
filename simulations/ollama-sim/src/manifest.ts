/**
 * What a model is made of on disk, as Ollama's manifests list it (manifest/layer.go): a weights
 * layer, small text layers (template, system, license, params, messages) and a config layer. The
 * small layers hold real text, so their digests are true sha256 sums and equal text shares a blob;
 * the weights are only a size and a stable digest.
 */
import { createHash } from 'node:crypto';
import { templateFor } from './capabilities.js';
import type { Capability, SimModel } from './types.js';

/** Media types of manifest layers (server/images.go, server/create.go). */
export const MEDIA_TYPES = {
  model: 'application/vnd.ollama.image.model',
  template: 'application/vnd.ollama.image.template',
  system: 'application/vnd.ollama.image.system',
  license: 'application/vnd.ollama.image.license',
  params: 'application/vnd.ollama.image.params',
  messages: 'application/vnd.ollama.image.messages',
  config: 'application/vnd.docker.container.image.v1+json',
} as const;

/** One blob of a manifest. */
export interface Layer {
  mediaType: string;
  /** `sha256:<64 hex>`. */
  digest: string;
  size: number;
  /** The text of small layers; absent for weights. */
  content?: string;
}

/** A message stored in a model (MESSAGE in a Modelfile), put before every chat. */
export interface ModelMessage {
  role: string;
  content: string;
}

/** Everything a manifest says about a model besides its name. */
export interface ModelManifest {
  layers: Layer[];
  config: Layer;
  template: string;
  system: string;
  license: string[];
  /** PARAMETER values, which become the defaults of `options`. */
  parameters: Record<string, unknown>;
  messages: ModelMessage[];
  /** Capabilities the config declares on top of those of weights and template (CreateRequest.info). */
  declaredCapabilities: Capability[];
}

/** A layer holding `content`, with its true digest. */
export function textLayer(mediaType: string, content: string): Layer {
  const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
  return { mediaType, digest, size: Buffer.byteLength(content), content };
}

/** Go's json.Encoder output: keys sorted (maps) and a trailing newline, as setParameters writes. */
export function goJsonLine(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as Record<string, unknown>)
          .sort()
          .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sortKeys(value))}\n`;
}

/** The config layer (model.ConfigV2) for a model's details. */
export function configLayer(
  model: SimModel,
  declared: readonly Capability[],
  layers: readonly Layer[],
): Layer {
  return textLayer(
    MEDIA_TYPES.config,
    goJsonLine({
      model_format: 'gguf',
      model_family: model.family,
      model_families: model.families ?? [model.family],
      model_type: model.parameterSize,
      file_type: model.quantization,
      ...(declared.length > 0 ? { capabilities: declared } : {}),
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.digest) },
    }),
  );
}

/** The stable digest standing for a model's weights. */
export function weightsDigest(weights: string): string {
  return `sha256:${createHash('sha256').update(`ollama-sim-layer:${weights}:model`).digest('hex')}`;
}

const LICENSE = 'Simulated model: no weights, no license terms.';

/** Default PARAMETERs of library models: chat models stop at their template's markers. */
function defaultParameters(model: SimModel): Record<string, unknown> {
  if (!model.capabilities.includes('completion')) return { num_ctx: model.contextLength ?? 512 };
  return { stop: ['<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'] };
}

/** The manifest of a library model: weights, template, license, params and config. */
export function libraryManifest(model: SimModel, weights: string): ModelManifest {
  const template = templateFor(model.capabilities);
  const parameters = defaultParameters(model);
  const small = [
    textLayer(MEDIA_TYPES.template, template),
    textLayer(MEDIA_TYPES.license, LICENSE),
    textLayer(MEDIA_TYPES.params, goJsonLine(parameters)),
  ];
  const smallTotal = small.reduce((sum, layer) => sum + layer.size, 0);
  const weightsLayer: Layer = {
    mediaType: MEDIA_TYPES.model,
    digest: weightsDigest(weights),
    size: Math.max(1, model.sizeBytes - smallTotal),
  };
  const layers = [weightsLayer, ...small];
  return {
    layers,
    config: configLayer(model, [], layers),
    template,
    system: '',
    license: [LICENSE],
    parameters,
    messages: [],
    declaredCapabilities: [],
  };
}

/** The digest of a manifest listing `config` and `layers`, as `/api/tags` shows it. */
export function manifestDigest(config: Layer, layers: readonly Layer[]): string {
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: layers.map((layer) => ({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size })),
  };
  return createHash('sha256').update(JSON.stringify(manifest)).digest('hex');
}
