import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript } from './run-script.js';

const GIB = 1024 ** 3;
const work = mkdtempSync(join(tmpdir(), 'allerac-dry-run-'));
const prefix = join(work, 'prefix');

/** Writes a fake os-release file and returns its path. */
function osRelease(name: string, fields: Record<string, string>): string {
  const path = join(work, `${name}.os-release`);
  writeFileSync(
    path,
    `${Object.entries(fields)
      .map(([key, value]) => `${key}="${value}"`)
      .join('\n')}\n`,
  );
  return path;
}

const ubuntu = osRelease('ubuntu', {
  PRETTY_NAME: 'Ubuntu 24.04.1 LTS',
  NAME: 'Ubuntu',
  ID: 'ubuntu',
  ID_LIKE: 'debian',
  VERSION_ID: '24.04',
});
const debian = osRelease('debian', {
  PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)',
  ID: 'debian',
  VERSION_ID: '12',
});
const raspbian = osRelease('raspbian', {
  PRETTY_NAME: 'Raspbian GNU/Linux 12 (bookworm)',
  ID: 'raspbian',
  ID_LIKE: 'debian',
  VERSION_ID: '12',
});
const fedora = osRelease('fedora', {
  PRETTY_NAME: 'Fedora Linux 40 (Workstation Edition)',
  ID: 'fedora',
  VERSION_ID: '40',
});

/** A machine: enough disk and cores unless a test says otherwise. */
function machine(facts: Record<string, string | number>): Record<string, string> {
  const base: Record<string, string | number> = {
    ALLERAC_UNAME_S: 'Linux',
    ALLERAC_UNAME_M: 'x86_64',
    ALLERAC_DISK_FREE_BYTES: 200 * GIB,
    ALLERAC_CPU_CORES: 4,
    ALLERAC_SWAP_BYTES: 0,
    ALLERAC_DEVICE_MODEL: '',
    ALLERAC_INIT: 'systemd',
    ...facts,
  };
  return Object.fromEntries(Object.entries(base).map(([key, value]) => [key, String(value)]));
}

function dryRun(facts: Record<string, string | number>, ...args: string[]) {
  return runScript('install.sh', ['--dry-run', '--prefix', prefix, ...args], machine(facts));
}

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('install.sh --dry-run', () => {
  it('should plan a native install on Ubuntu with swap advice on 8 GB of RAM', async () => {
    const result = await dryRun({ ALLERAC_OS_RELEASE: ubuntu, ALLERAC_MEM_BYTES: 8 * GIB });
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain('[ OK ] OS: Ubuntu 24.04.1 LTS (ubuntu, x64)');
    expect(result.stdout).toContain('[WARN] swap: 0.0 GB with 8.0 GB of RAM');
    expect(result.stdout).toContain('would offer to add a 8 GB swapfile at /swapfile');
    expect(result.stdout).toContain('model: llama3.2:3b recommended');
    expect(result.stdout).toContain(`would copy the app`);
    expect(result.stdout).toContain(`${prefix}/versions/0.1.0`);
    expect(result.stdout).toContain('systemd unit');
    expect(result.stdout).toContain('would pull the model llama3.2:3b');
    expect(result.stdout).toContain('[ OK ] dry run complete: nothing was changed');
    expect(existsSync(prefix)).toBe(false);
  });

  it('should plan Debian on a 32 GB machine without swap advice and with a larger model', async () => {
    const result = await dryRun({ ALLERAC_OS_RELEASE: debian, ALLERAC_MEM_BYTES: 32 * GIB });
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain('[ OK ] OS: Debian GNU/Linux 12 (bookworm) (debian, x64)');
    expect(result.stdout).toContain('swap: 0.0 GB (not needed');
    expect(result.stdout).not.toContain('swapfile');
    expect(result.stdout).toContain('model: qwen2.5:14b recommended');
  });

  it('should recognize the 64-bit Raspberry Pi OS and advise swap on 8 GB', async () => {
    const result = await dryRun({
      ALLERAC_OS_RELEASE: debian,
      ALLERAC_UNAME_M: 'aarch64',
      ALLERAC_DEVICE_MODEL: 'Raspberry Pi 5 Model B Rev 1.0',
      ALLERAC_MEM_BYTES: 8 * GIB,
      ALLERAC_SWAP_BYTES: 512 * 1024 ** 2,
    });
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain(
      'Raspberry Pi OS (Debian GNU/Linux 12 (bookworm)) on Raspberry Pi 5 Model B Rev 1.0 (raspios, arm64)',
    );
    expect(result.stdout).toContain('[WARN] swap: 0.5 GB with 8.0 GB of RAM');
    expect(result.stdout).toContain('would offer to add a 8 GB swapfile');
  });

  it('should plan macOS with launchd and no swap step', async () => {
    const result = await dryRun({
      ALLERAC_UNAME_S: 'Darwin',
      ALLERAC_UNAME_M: 'arm64',
      ALLERAC_MACOS_VERSION: '14.5',
      ALLERAC_MEM_BYTES: 16 * GIB,
      ALLERAC_INIT: '',
    });
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain('[ OK ] OS: macOS 14.5 (macos, arm64)');
    expect(result.stdout).toContain('swap: macOS manages swap itself');
    expect(result.stdout).toMatch(/launchd (agent|daemon)/);
    expect(result.stdout).toContain('net.allerac.node.plist');
    expect(result.stdout).toContain('model: llama3.1:8b recommended');
  });

  it('should plan the no-systemd fallback where there is no systemd', async () => {
    const result = await dryRun(
      { ALLERAC_OS_RELEASE: debian, ALLERAC_MEM_BYTES: 16 * GIB, ALLERAC_INIT: 'background' },
      '--no-ollama',
    );
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain(`${prefix}/bin/allerac-service`);
    expect(result.stdout).toContain('Ollama: skipped (--no-ollama)');
    expect(result.stdout).not.toContain('would pull the model');
  });

  it('should plan a Docker install with compose', async () => {
    const result = await dryRun(
      { ALLERAC_OS_RELEASE: ubuntu, ALLERAC_MEM_BYTES: 16 * GIB },
      '--docker',
      '--model',
      'mistral:7b',
      '--http-port',
      '9090',
    );
    expect(result.code, result.output).toBe(0);
    expect(result.stdout).toContain('mode docker');
    expect(result.stdout).toContain('docker-compose.local.yml');
    expect(result.stdout).toContain('up -d --build');
    expect(result.stdout).toContain('model: mistral:7b (--model)');
    expect(result.stdout).toContain('http://127.0.0.1:9090/health');
  });

  it('should refuse an unsupported OS unless told to continue', async () => {
    const refused = await dryRun({ ALLERAC_OS_RELEASE: fedora, ALLERAC_MEM_BYTES: 16 * GIB });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      '[FAIL] Fedora Linux 40 (Workstation Edition) (other) is not a supported OS',
    );
    expect(refused.stderr).toContain('next:');
    const forced = await dryRun({ ALLERAC_OS_RELEASE: fedora, ALLERAC_MEM_BYTES: 16 * GIB }, '--yes');
    expect(forced.code, forced.output).toBe(0);
    expect(forced.stdout).toContain('continuing on an unsupported OS at your own risk');
  });

  it('should refuse the 32-bit Raspberry Pi OS and 32-bit CPUs', async () => {
    const pi32 = await dryRun(
      { ALLERAC_OS_RELEASE: raspbian, ALLERAC_UNAME_M: 'aarch64', ALLERAC_MEM_BYTES: 8 * GIB },
      '--yes',
    );
    expect(pi32.code).toBe(1);
    expect(pi32.stderr).toContain('32-bit Raspberry Pi OS');
    const armv7 = await dryRun(
      { ALLERAC_OS_RELEASE: debian, ALLERAC_UNAME_M: 'armv7l', ALLERAC_MEM_BYTES: 8 * GIB },
      '--yes',
    );
    expect(armv7.code).toBe(1);
    expect(armv7.stderr).toContain('armv7l architecture is not supported');
  });

  it('should stop below the minimum hardware unless told to continue', async () => {
    const small = await dryRun({
      ALLERAC_OS_RELEASE: debian,
      ALLERAC_MEM_BYTES: 2 * GIB,
      ALLERAC_DISK_FREE_BYTES: 5 * GIB,
    });
    expect(small.code).toBe(1);
    expect(small.stderr).toContain('[FAIL] RAM: 2.0 GB, below the minimum of 4 GB');
    expect(small.stderr).toContain('[FAIL] disk: 5.0 GB free');
    expect(small.stderr).toContain('below the minimum hardware (RAM disk)');
  });

  it('should print usage for --help and a next step for a bad flag', async () => {
    const help = await runScript('install.sh', ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: install.sh');
    expect(help.stdout).toContain('--dry-run');
    const bad = await runScript('install.sh', ['--frobnicate']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('[FAIL] unknown option: --frobnicate');
    expect(bad.stderr).toContain('next: see: bash install.sh --help');
  });
});
