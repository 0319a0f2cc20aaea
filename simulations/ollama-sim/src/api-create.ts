/**
 * POST /api/create (CreateHandler and createModel in server/create.go). A model is made `from` an
 * installed model (pulled first when missing) or from `files` uploaded to /api/blobs, then given
 * its template, system, license, parameters and messages as new layers. Progress lines name each
 * layer (`using existing layer sha256:…` or `creating new layer sha256:…`), then
 * `writing manifest` and `success`. The weights decide the answers: a model made from another
 * answers like it, unless its system prompt or messages change the conversation.
 */
import type { ServerResponse } from 'node:http';
import { BLOBS_DIR } from './api-models.js';
import { PULL_PROGRESS_INTERVAL_MS, pullModel } from './api-pull.js';
import { DIGEST_PATTERN, GGUF_MAGIC } from './blobs.js';
import { weightCapabilities } from './capabilities.js';
import type { ClientWatch } from './client-watch.js';
import { OllamaApiError } from './errors.js';
import {
  decodeRequest,
  GO_ANY,
  GO_BOOL,
  GO_STRING,
  type GoType,
  goSlice,
  goStruct,
  jsonKind,
} from './go-json.js';
import type { JsonObject } from './http-util.js';
import {
  configLayer,
  goJsonLine,
  type Layer,
  MEDIA_TYPES,
  type ModelManifest,
  type ModelMessage,
  textLayer,
  weightsDigest,
} from './manifest.js';
import { INVALID_MODEL_NAME } from './model-lookup.js';
import { isValidModelName, parseModelName } from './model-name.js';
import type { InstalledModel } from './models.js';
import { ProgressStream } from './progress.js';
import { MESSAGE } from './requests.js';
import type { SimState } from './state.js';
import type { Capability, SimModel } from './types.js';

const STRING_MAP: GoType = { kind: 'map', elem: GO_STRING, goName: 'map[string]string' };
const ANY_MAP: GoType = { kind: 'map', elem: GO_ANY, goName: 'map[string]interface {}' };

const CREATE_REQUEST = goStruct('CreateRequest', {
  model: GO_STRING,
  stream: GO_BOOL,
  quantize: GO_STRING,
  draft_quantize: GO_STRING,
  from: GO_STRING,
  remote_host: GO_STRING,
  files: STRING_MAP,
  draft_files: STRING_MAP,
  adapters: STRING_MAP,
  template: GO_STRING,
  license: GO_ANY,
  system: GO_STRING,
  parameters: ANY_MAP,
  messages: goSlice(MESSAGE, '[]api.Message'),
  renderer: GO_STRING,
  parser: GO_STRING,
  requires: GO_STRING,
  info: ANY_MAP,
  name: GO_STRING,
  quantization: GO_STRING,
});

/** Bits per weight of the quantizations ParseFileType accepts, to size a quantized copy. */
const BITS_PER_WEIGHT: Record<string, number> = {
  F32: 32,
  F16: 16,
  BF16: 16,
  Q8_0: 8.5,
  Q4_K_S: 4.58,
  Q4_K_M: 4.85,
};
/** Quantizations a model must be in to be quantized (createModel). */
const QUANTIZABLE = ['F16', 'BF16', 'F32'];

type CreateRequest = Record<string, unknown>;

/** A model being assembled: its weights, their details and the manifest's layers. */
interface Draft {
  model: SimModel;
  weights: string;
  layers: Layer[];
  /** Status of each layer as NewLayer and NewLayerFromLayer set it. */
  statuses: Map<Layer, string>;
  base: InstalledModel | undefined;
}

/** io/fs.ValidPath: relative, slash-separated, without empty, `.` or `..` elements. */
function isValidFilePath(path: string): boolean {
  if (path === '.') return true;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Go's HumanNumber, as create prints a parameter count. */
function humanNumber(n: number): string {
  const fixed = (value: number, digits: number) =>
    Number.isInteger(value) ? value.toFixed(0) : value.toFixed(digits);
  if (n >= 1e9) return `${fixed(n / 1e9, 1)}B`;
  if (n >= 1e6) return `${fixed(n / 1e6, 2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}K`;
  return String(n);
}

/** Go's template parser on its most common error: an action opened and never closed. */
function templateError(template: string): string | undefined {
  let at = 0;
  for (;;) {
    const open = template.indexOf('{{', at);
    if (open < 0) return undefined;
    const close = template.indexOf('}}', open + 2);
    if (close < 0) {
      const line = template.slice(0, open).split('\n').length;
      return `template error: template: :${line}: unclosed action`;
    }
    at = close + 2;
  }
}

/** NewLayerFromLayer: a layer the model takes over as it is. */
function existing(layer: Layer, draft: Draft): void {
  draft.layers.push(layer);
  draft.statuses.set(layer, `using existing layer ${layer.digest}`);
}

/** NewLayer: stores text as a blob; the status says whether it was there already. */
function newTextLayer(state: SimState, draft: Draft, mediaType: string, content: string): void {
  const layer = textLayer(mediaType, content);
  const verb = state.store.blobs.has(layer.digest) ? 'using existing layer' : 'creating new layer';
  state.store.storeLayer(layer);
  draft.layers = draft.layers.filter(
    (other) => other.mediaType !== mediaType || mediaType === MEDIA_TYPES.license,
  );
  draft.layers.push(layer);
  draft.statuses.set(layer, `${verb} ${layer.digest}`);
}

/** `from`: the layers of an installed model, pulled from the registry first when missing. */
async function fromModel(
  state: SimState,
  progress: ProgressStream,
  from: string,
): Promise<Draft | undefined> {
  const name = from.trim();
  if (name === '' || !isValidModelName(parseModelName(name)))
    throw new OllamaApiError(400, INVALID_MODEL_NAME);
  const base = state.store.find(name) ?? (await pullModel(state, progress, name));
  if (base === undefined) return undefined;
  const draft: Draft = {
    model: { ...base.model },
    weights: base.weights,
    layers: [],
    statuses: new Map(),
    base,
  };
  for (const layer of base.layers) existing(layer, draft);
  return draft;
}

/** The installed model whose weights are this blob, if any. */
function modelWithWeights(state: SimState, digest: string): InstalledModel | undefined {
  return [...state.store.installed.values()].find((entry) => weightsDigest(entry.weights) === digest);
}

/** detectModelTypeFromFiles: by extension, else by the GGUF magic of the blob. */
function filesType(state: SimState, files: Record<string, string>): string {
  for (const [name, digest] of Object.entries(files)) {
    if (name.endsWith('.safetensors')) return 'safetensors';
    if (name.endsWith('.gguf')) return 'gguf';
    if (!DIGEST_PATTERN.test(digest)) return '';
    const blob = state.store.blobs.get(digest);
    if (blob === undefined || blob.head.length === 0) return '';
    if (blob.head.subarray(0, 4).equals(GGUF_MAGIC)) return 'gguf';
  }
  return '';
}

/** `files`: GGUF blobs uploaded earlier; weights of a known model keep its details and answers. */
function fromFiles(state: SimState, progress: ProgressStream, files: Record<string, string>): Draft {
  const type = filesType(state, files);
  if (type === 'safetensors') {
    throw new OllamaApiError(500, 'ollama-sim does not simulate converting safetensors models');
  }
  if (type !== 'gguf') throw new OllamaApiError(400, 'unknown type');
  const draft: Draft = {
    model: { name: '', family: '', parameterSize: '', quantization: '', sizeBytes: 0, capabilities: [] },
    weights: '',
    layers: [],
    statuses: new Map(),
    base: undefined,
  };
  for (const path of Object.keys(files).sort()) {
    const digest = files[path]!;
    progress.emit({ status: 'parsing GGUF' });
    if (!DIGEST_PATTERN.test(digest)) throw new OllamaApiError(500, 'invalid digest format');
    const blob = state.store.blobs.get(digest);
    if (blob === undefined) {
      throw new OllamaApiError(
        500,
        `open ${BLOBS_DIR}/${digest.replace(':', '-')}: no such file or directory`,
      );
    }
    const known = modelWithWeights(state, digest);
    if (known === undefined && !blob.head.subarray(0, 4).equals(GGUF_MAGIC)) {
      throw new OllamaApiError(400, 'supplied file was not in GGUF format');
    }
    const layer: Layer = { mediaType: MEDIA_TYPES.model, digest, size: blob.size };
    existing(layer, draft);
    if (draft.weights !== '') continue;
    if (known !== undefined) {
      draft.model = { ...known.model, capabilities: weightCapabilities(known.model.capabilities) };
      draft.weights = known.weights;
    } else {
      // An uploaded GGUF the simulator cannot read: a plain completion model sized by its file.
      draft.model = {
        name: '',
        family: 'llama',
        parameterSize: humanNumber(Math.round(blob.size / 0.5625)),
        quantization: 'Q4_K_M',
        sizeBytes: blob.size,
        capabilities: ['completion'],
      };
      draft.weights = digest;
    }
  }
  return draft;
}

/** `info`: capabilities and details that override what the weights say. */
function applyInfo(draft: Draft, info: Record<string, unknown>): Capability[] {
  const declared: Capability[] = [];
  if (Array.isArray(info.capabilities)) {
    for (const c of info.capabilities) if (typeof c === 'string') declared.push(c as Capability);
  }
  const text = (key: string): string | undefined => {
    const value = info[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string')
      throw new OllamaApiError(400, `info field ${JSON.stringify(key)} must be a string`);
    return value;
  };
  const count = (key: string): number | undefined => {
    const value = info[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number')
      throw new OllamaApiError(400, `info field ${JSON.stringify(key)} must be a number`);
    if (value < 0 || !Number.isInteger(value)) {
      throw new OllamaApiError(400, `info field ${JSON.stringify(key)} must be a non-negative integer`);
    }
    return value;
  };
  const family = text('model_family');
  if (family !== undefined && family !== '') draft.model = { ...draft.model, family, families: [family] };
  text('base_name');
  const quantization = text('quantization_level');
  if (quantization !== undefined && quantization !== '') draft.model = { ...draft.model, quantization };
  const parameterSize = text('parameter_size');
  if (parameterSize !== undefined && parameterSize !== '') draft.model = { ...draft.model, parameterSize };
  const context = count('context_length');
  if (context !== undefined && context > 0) draft.model = { ...draft.model, contextLength: context };
  const embedding = count('embedding_length');
  if (embedding !== undefined && embedding > 0)
    draft.model = { ...draft.model, embeddingDimensions: embedding };
  return declared;
}

/** Quantizing the weights layer: progress, then a new, smaller layer with its own answers. */
async function quantize(
  state: SimState,
  progress: ProgressStream,
  draft: Draft,
  requested: string,
): Promise<boolean> {
  const want = requested === 'Q4_K' ? 'Q4_K_M' : requested;
  if (BITS_PER_WEIGHT[want] === undefined) {
    throw new OllamaApiError(
      500,
      `unsupported quantization type ${requested} - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0`,
    );
  }
  const from = draft.model.quantization;
  if (!QUANTIZABLE.includes(from)) {
    throw new OllamaApiError(500, 'quantization is only supported for F16, BF16 and F32 models');
  }
  if (from === want) return true;
  const index = draft.layers.findIndex((layer) => layer.mediaType === MEDIA_TYPES.model);
  const source = draft.layers[index]!;
  const status = `quantizing ${from} model to ${want}`;
  for (let step = 1; step <= 4; step++) {
    if (!(await progress.pause(PULL_PROGRESS_INTERVAL_MS))) return false;
    progress.emit({
      status,
      digest: '0000000000000000000',
      total: source.size,
      completed: (source.size * step) / 4,
    });
  }
  progress.emit({ status: 'verifying conversion' });
  const weights = `${draft.weights}@${want}`;
  const size = Math.max(
    1,
    Math.round((source.size * BITS_PER_WEIGHT[want]!) / (BITS_PER_WEIGHT[from] ?? 16)),
  );
  const layer: Layer = { mediaType: MEDIA_TYPES.model, digest: weightsDigest(weights), size };
  const verb = state.store.blobs.has(layer.digest) ? 'using existing layer' : 'creating new layer';
  draft.layers[index] = layer;
  draft.statuses.set(layer, `${verb} ${layer.digest}`);
  draft.weights = weights;
  draft.model = { ...draft.model, quantization: want };
  return true;
}

/** A license is a string or a list of them; anything else fails re-decoding as []string (createModel). */
function licenseTexts(license: unknown): string[] {
  if (license === undefined) return [];
  if (typeof license === 'string') return license === '' ? [] : [license];
  if (!Array.isArray(license)) {
    throw new OllamaApiError(
      500,
      `json: cannot unmarshal ${jsonKind(license)} into Go value of type []string`,
    );
  }
  return license.map((item) => {
    if (typeof item !== 'string') {
      throw new OllamaApiError(500, `json: cannot unmarshal ${jsonKind(item)} into Go value of type string`);
    }
    return item;
  });
}

/** createModel: the new layers, the config and the manifest, written under `name`. */
async function create(
  state: SimState,
  progress: ProgressStream,
  request: CreateRequest,
  name: string,
): Promise<boolean> {
  const from = (request.from as string | undefined) ?? '';
  const files = request.files as Record<string, string> | undefined;
  if (
    from !== '' &&
    (request.remote_host as string | undefined) !== undefined &&
    request.remote_host !== ''
  ) {
    throw new OllamaApiError(500, 'ollama-sim does not simulate remote models');
  }
  let draft: Draft | undefined;
  if (from !== '') draft = await fromModel(state, progress, from);
  else if (files !== undefined) draft = fromFiles(state, progress, files);
  else throw new OllamaApiError(400, "neither 'from' or 'files' was specified");
  if (draft === undefined) return false;
  if (request.adapters !== undefined || request.draft_files !== undefined) {
    throw new OllamaApiError(500, 'ollama-sim does not simulate adapters or draft models');
  }
  const declared = [
    ...(draft.base?.declaredCapabilities ?? []),
    ...applyInfo(draft, (request.info as Record<string, unknown> | undefined) ?? {}),
  ];
  const quantization = (
    (request.quantize as string | undefined) ||
    (request.quantization as string | undefined) ||
    ''
  ).toUpperCase();
  if (quantization !== '' && !(await quantize(state, progress, draft, quantization))) return false;

  let template = draft.base?.template ?? '{{ .Prompt }}';
  let system = draft.base?.system ?? '';
  const license = [...(draft.base?.license ?? [])];
  let messages: ModelMessage[] = draft.base?.messages ?? [];
  const requestTemplate = (request.template as string | undefined) ?? '';
  if (requestTemplate !== '') {
    const error = templateError(requestTemplate);
    if (error !== undefined) throw new OllamaApiError(400, error);
    newTextLayer(state, draft, MEDIA_TYPES.template, requestTemplate);
    template = requestTemplate;
  }
  const requestSystem = (request.system as string | undefined) ?? '';
  if (requestSystem !== '') {
    newTextLayer(state, draft, MEDIA_TYPES.system, requestSystem);
    system = requestSystem;
  }
  for (const text of licenseTexts(request.license)) {
    newTextLayer(state, draft, MEDIA_TYPES.license, text);
    license.push(text);
  }
  // setParameters: the request's values win over those the model had.
  const parameters = {
    ...(draft.base?.parameters ?? {}),
    ...((request.parameters as Record<string, unknown>) ?? {}),
  };
  if (Object.keys(parameters).length > 0)
    newTextLayer(state, draft, MEDIA_TYPES.params, goJsonLine(parameters));
  const requestMessages = (request.messages as Array<Record<string, unknown> | undefined> | undefined) ?? [];
  if (requestMessages.length > 0) {
    messages = requestMessages.map((m) => ({
      role: (m?.role as string) ?? '',
      content: (m?.content as string) ?? '',
    }));
    newTextLayer(state, draft, MEDIA_TYPES.messages, `${JSON.stringify(messages)}\n`);
  }
  const config = configLayer(draft.model, declared, draft.layers);
  for (const layer of draft.layers) progress.emit({ status: draft.statuses.get(layer) ?? '' });
  progress.emit({ status: 'writing manifest' });
  const manifest: ModelManifest = {
    layers: draft.layers,
    config,
    template,
    system,
    license,
    parameters,
    messages,
    declaredCapabilities: declared,
  };
  const sizeBytes = draft.layers.reduce((sum, layer) => sum + layer.size, 0);
  state.store.put(name, { ...draft.model, sizeBytes }, draft.weights, manifest);
  progress.emit({ status: 'success' });
  return true;
}

/** POST /api/create. */
export async function handleCreate(
  state: SimState,
  res: ServerResponse,
  client: ClientWatch,
  body: JsonObject,
): Promise<void> {
  const request = decodeRequest(body, CREATE_REQUEST);
  for (const files of [request.files, request.draft_files] as Array<Record<string, string> | undefined>) {
    for (const [path, digest] of Object.entries(files ?? {})) {
      if (!isValidFilePath(path)) throw new OllamaApiError(400, 'file path must be relative');
      if (digest === '' || digest === undefined) throw new OllamaApiError(400, 'invalid digest format');
    }
  }
  if ((request.draft_quantize as string | undefined) && request.draft_files === undefined) {
    throw new OllamaApiError(400, '--draft-quantize requires a DRAFT model');
  }
  for (const digest of Object.values((request.adapters as Record<string, string> | undefined) ?? {})) {
    if (digest === '' || digest === undefined) throw new OllamaApiError(400, 'invalid digest format');
  }
  const model = (request.model as string | undefined) || (request.name as string | undefined) || '';
  if (!isValidModelName(parseModelName(model))) throw new OllamaApiError(400, INVALID_MODEL_NAME);
  const progress = new ProgressStream(state, res, client, (request.stream as boolean | undefined) ?? true);
  await progress.run(() => create(state, progress, request, model));
}
