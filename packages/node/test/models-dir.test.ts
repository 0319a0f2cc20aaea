/** The models directory as the node shares it: where it is, and names that cannot leave it. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseModelRef, shortModelName } from '../src/models/model-ref.js';
import {
  chooseModelsDir,
  LINUX_SERVICE_MODELS_DIR,
  ModelsDirectory,
  sharingStatus,
} from '../src/models/models-dir.js';

const dirs: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'allerac-models-dir-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the Ollama models directory', () => {
  it('should take the flag, then OLLAMA_MODELS, then ~/.ollama/models, then the Linux service one', () => {
    const none = () => false;
    expect(chooseModelsDir('/srv/models', { OLLAMA_MODELS: '/x' }, none, '/home/u')).toBe('/srv/models');
    expect(chooseModelsDir(undefined, { OLLAMA_MODELS: '/x' }, none, '/home/u')).toBe('/x');
    expect(chooseModelsDir(undefined, {}, (p) => p === '/home/u/.ollama/models', '/home/u')).toBe(
      '/home/u/.ollama/models',
    );
    expect(chooseModelsDir(undefined, {}, (p) => p === LINUX_SERVICE_MODELS_DIR, '/home/u')).toBe(
      LINUX_SERVICE_MODELS_DIR,
    );
    expect(chooseModelsDir(undefined, {}, none, '/home/u')).toBe('/home/u/.ollama/models');
  });

  it('should map names and digests to files inside it, and nothing else', () => {
    const dir = new ModelsDirectory('/m');
    expect(
      dir.manifestPath({ host: 'registry.ollama.ai', namespace: 'library', model: 'llama3.2', tag: '3b' }),
    ).toBe('/m/manifests/registry.ollama.ai/library/llama3.2/3b');
    expect(dir.blobPath(`sha256:${'a'.repeat(64)}`)).toBe(`/m/blobs/sha256-${'a'.repeat(64)}`);
    for (const name of [
      { host: '..', namespace: 'library', model: 'x', tag: 'y' },
      { host: 'a..b', namespace: 'library', model: 'x', tag: 'y' },
      { host: 'h', namespace: '..', model: 'x', tag: 'y' },
      { host: 'h', namespace: 'n', model: '.', tag: 'y' },
      { host: 'h', namespace: 'n', model: 'a/b', tag: 'y' },
      { host: 'h', namespace: 'n', model: 'm', tag: '../../blobs' },
      { host: '/etc', namespace: 'n', model: 'm', tag: 't' },
    ]) {
      expect(dir.manifestPath(name)).toBeUndefined();
    }
    for (const digest of ['sha256:../x', `sha256-${'a'.repeat(64)}`, `sha256:${'A'.repeat(64)}`, 'sha256:']) {
      expect(dir.blobPath(digest)).toBeUndefined();
    }
  });

  it('should refuse a file that a symbolic link puts outside the directory', async () => {
    const root = temp();
    const outside = temp();
    writeFileSync(join(outside, 'secret'), 'x');
    mkdirSync(join(root, 'blobs'), { recursive: true });
    const digest = `sha256:${'b'.repeat(64)}`;
    symlinkSync(join(outside, 'secret'), join(root, 'blobs', `sha256-${'b'.repeat(64)}`));
    const dir = new ModelsDirectory(root);
    expect(await dir.realFile(dir.blobPath(digest)!)).toBeUndefined();
  });

  it('should say why it cannot share, without the path, when the directory is missing', async () => {
    const status = await new ModelsDirectory(join(temp(), 'nope')).status();
    expect(status.readable).toBe(false);
    const shown = sharingStatus(status);
    expect(shown).toEqual({ sharing: false, reason: expect.stringMatching(/does not exist/) });
    expect(shown.reason).not.toContain(tmpdir());
  });

  it('should parse names as Ollama does', () => {
    expect(parseModelRef('llama3.2')).toEqual({
      host: 'registry.ollama.ai',
      namespace: 'library',
      model: 'llama3.2',
      tag: 'latest',
    });
    expect(parseModelRef('hf.co/bartowski/x:Q4')).toEqual({
      host: 'hf.co',
      namespace: 'bartowski',
      model: 'x',
      tag: 'Q4',
    });
    expect(shortModelName(parseModelRef('registry.ollama.ai/library/llama3.2:3b'))).toBe('llama3.2:3b');
    for (const bad of ['a/b/c/d/e', '../x', 'x:../y', ''])
      expect(() => parseModelRef(bad)).toThrow(/invalid model name/);
  });
});
