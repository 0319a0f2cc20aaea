import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPLOY_DIR, requireShellcheck } from './run-script.js';

/** Every shell script in deploy/ (by extension or shebang). */
function deployScripts(): string[] {
  return readdirSync(DEPLOY_DIR)
    .map((name) => join(DEPLOY_DIR, name))
    .filter((path) => statSync(path).isFile())
    .filter(
      (path) =>
        path.endsWith('.sh') || /^#!.*\b(ba)?sh\b/.test(readFileSync(path, 'utf8').split('\n')[0] ?? ''),
    );
}

describe('deploy scripts', () => {
  it('should find install.sh and uninstall.sh', () => {
    const names = deployScripts().map((path) => path.slice(DEPLOY_DIR.length + 1));
    expect(names).toEqual(expect.arrayContaining(['install.sh', 'uninstall.sh']));
  });

  it('should be clean under shellcheck', () => {
    requireShellcheck();
    for (const script of deployScripts()) {
      // execFileSync throws with shellcheck's findings on any warning.
      execFileSync('shellcheck', ['--severity=style', script], { encoding: 'utf8' });
    }
  });
});
