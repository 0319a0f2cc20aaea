/** Finding the model a request names, failing with the status and text each handler uses. */
import { OllamaApiError } from './errors.js';
import { isValidModelName, parseModelName } from './model-name.js';
import type { InstalledModel } from './models.js';
import type { SimState } from './state.js';

/** errtypes.InvalidModelNameErrMsg. */
export const INVALID_MODEL_NAME = 'invalid model name';

/**
 * parseAndValidateModelRef: a blank name fails with `whenMissing`, an ill-formed one with 400
 * `invalid model name` (writeModelRefParseError). Returns the trimmed name.
 */
export function validModelRef(raw: string, whenMissing: () => OllamaApiError): string {
  const name = raw.trim();
  if (name === '') throw whenMissing();
  if (!isValidModelName(parseModelName(name))) throw new OllamaApiError(400, INVALID_MODEL_NAME);
  return name;
}

/** The installed model, or `notFound`. */
export function installedModel(
  state: SimState,
  name: string,
  notFound: () => OllamaApiError,
): InstalledModel {
  const entry = state.store.find(name);
  if (entry === undefined) throw notFound();
  return entry;
}

/** ChatHandler's and GenerateHandler's 404 for a model that is not installed. */
export function notFoundQuoted(requested: string): OllamaApiError {
  return new OllamaApiError(404, `model '${requested}' not found`);
}
