/**
 * Issue #12, "settings keys are loose strings in about six places": one registry holds every key
 * with its type and default, and product code reads and writes settings only through it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPgliteDatabase } from '../src/store/pglite-database.js';
import {
  InvalidSettingError,
  readSetting,
  SETTING_DEFAULTS,
  SETTING_SCHEMAS,
  storedSettings,
  writeSetting,
} from '../src/store/settings-keys.js';
import type { SettingsRepository } from '../src/store/settings-repository.js';
import { createStore, type Store } from '../src/store/store.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('settings registry', () => {
  let dir: string;
  let store: Store;
  let settings: SettingsRepository;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'allerac-settings-'));
    store = await createStore(await openPgliteDatabase(join(dir, 'db')));
    settings = store.settings;
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await store.db.exec('DELETE FROM settings');
  });

  it('should be the only code that calls the settings repository', () => {
    const allowed = new Set(['store/settings-keys.ts', 'store/settings-repository.ts']);
    const offenders = sources(SRC)
      .filter((file) => !allowed.has(relative(SRC, file)))
      .flatMap((file) =>
        readFileSync(file, 'utf8')
          .split('\n')
          .flatMap((line, index) =>
            /\bsettings\.(get|set|all)\s*[<(]/.test(line) ? [`${relative(SRC, file)}:${index + 1}`] : [],
          ),
      );
    expect(offenders).toEqual([]);
  });

  it('should give the default of a setting that is not stored, or that holds a value of the wrong type', async () => {
    expect(await readSetting(settings, 'memory.chat.k')).toBe(SETTING_DEFAULTS['memory.chat.k']);
    expect(await readSetting(settings, 'update.source')).toEqual({ kind: 'npm', package: '@allerac/node' });
    expect(await readSetting(settings, 'agent.name')).toBeUndefined();
    await settings.set('memory.chat.k', 'three');
    expect(await readSetting(settings, 'memory.chat.k')).toBe(3);
    await writeSetting(settings, 'memory.chat.k', 7);
    expect(await readSetting(settings, 'memory.chat.k')).toBe(7);
  });

  it('should refuse to write a value its schema does not allow', async () => {
    await expect(
      writeSetting(settings, 'agent.specializations', ['gardening'] as unknown as ['home']),
    ).rejects.toThrow(InvalidSettingError);
    expect(await settings.get('agent.specializations')).toBeUndefined();
  });

  it('should list the known settings only, never a retired or unknown key', async () => {
    await writeSetting(settings, 'ui.language', 'pt');
    await settings.set('mesh.joinCode', 'ALRC-SECRET');
    await settings.set('models.embedding', 'all-minilm:latest');
    expect(await storedSettings(settings)).toEqual({ 'ui.language': 'pt' });
  });

  it('should give every default a value its own schema accepts', async () => {
    for (const key of Object.keys(SETTING_DEFAULTS) as Array<keyof typeof SETTING_DEFAULTS>) {
      await writeSetting(settings, key, SETTING_DEFAULTS[key]);
      expect(Object.keys(SETTING_SCHEMAS)).toContain(key);
    }
  });
});
