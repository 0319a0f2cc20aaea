/**
 * `<data-dir>/home-assistant.json`: HA's URL and long-lived token. A file of mode 0600, as the
 * node keeps its other secrets, not the settings table, whose rows go into cleartext backups.
 * Writes replace it in one rename, so a reader never sees half of one.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_HA_ACTION_DOMAINS } from '../contract/home-assistant.js';
import { ConflictError } from '../errors.js';
import { PRIVATE_FILE_MODE } from '../store/file-modes.js';
import { HA_SETTINGS_FILE } from './constants.js';

/** What the file holds. */
export interface HomeAssistantSettings {
  url: string;
  token: string;
  /** The domains in which assistants may act through this node. */
  actionDomains: string[];
}

/** The file exists but is not HA settings (a PUT replaces it). */
export class HomeAssistantSettingsFileError extends ConflictError {
  override name = 'HomeAssistantSettingsFileError';
}

/** Where a data dir keeps the HA settings. */
export const homeAssistantSettingsPath = (dataDir: string): string => join(dataDir, HA_SETTINGS_FILE);

/** The stored settings; undefined when none are. */
export function readHomeAssistantSettings(file: string): HomeAssistantSettings | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: Partial<HomeAssistantSettings> | undefined;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<HomeAssistantSettings>;
  } catch {
    parsed = undefined;
  }
  if (typeof parsed?.url !== 'string' || typeof parsed.token !== 'string')
    throw new HomeAssistantSettingsFileError(
      `${file} is not Home Assistant settings; set them again in Settings`,
    );
  const domains = parsed.actionDomains;
  const actionDomains =
    Array.isArray(domains) && domains.every((d) => typeof d === 'string')
      ? domains
      : [...DEFAULT_HA_ACTION_DOMAINS];
  return { url: parsed.url, token: parsed.token, actionDomains };
}

/** Replaces the settings (mode 0600) in one rename. */
export function writeHomeAssistantSettings(file: string, settings: HomeAssistantSettings): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(
      tmp,
      `${JSON.stringify({ url: settings.url, token: settings.token, actionDomains: settings.actionDomains })}\n`,
      {
        mode: PRIVATE_FILE_MODE,
      },
    );
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
