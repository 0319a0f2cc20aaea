import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quote } from 'shell-quote';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArchive } from '../src/backup/snapshot.js';
import { openStore } from '../src/store/store.js';
import {
  UpdateError,
  UpdateIntegrityError,
  UpdateRolledBackError,
  UpdatesDisabledError,
} from '../src/update/errors.js';
import { compareVersions, InstallLayout } from '../src/update/install-layout.js';
import {
  commandServiceControl,
  defaultServiceControl,
  parseServiceCommand,
} from '../src/update/service-control.js';
import { checkForUpdate, fetchLatestRelease } from '../src/update/update-source.js';
import { Updater } from '../src/update/updater.js';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

/**
 * A tiny stand-in for the node: its server serves /health with its version. `bad` versions act
 * like a release that migrates the schema (writes a pre-migration archive) and then crashes.
 */
function packFixture(root: string, version: string, bad: boolean): string {
  const dir = join(root, `src-${version}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'allerac-fixture-app',
      version,
      type: 'module',
      main: 'server.js',
      files: ['server.js'],
    }),
  );
  writeFileSync(
    join(dir, 'server.js'),
    bad
      ? `import { copyFileSync, mkdirSync } from 'node:fs';
mkdirSync(process.env.PREMIGRATE_DIR, { recursive: true });
copyFileSync(process.env.PREMIGRATE_SRC, process.env.PREMIGRATE_DIR + '/pre-migrate-9-20990101T000000.000Z.allerac-backup');
console.error('migration 9 failed');
process.exit(3);
`
      : `import { createServer } from 'node:http';
createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ healthy: true, version: ${JSON.stringify(version)} }));
}).listen(Number(process.env.PORT), '127.0.0.1');
`,
  );
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', root], {
    cwd: dir,
    encoding: 'utf8',
  });
  return join(root, out.trim().split('\n').at(-1) as string);
}

describe('updates of a native install', () => {
  const root = mkdtempSync(join(tmpdir(), 'allerac-update-'));
  const prefix = join(root, 'prefix');
  const dataDir = join(prefix, 'data');
  const layout = new InstallLayout(prefix);
  const tarballs: Record<string, string> = {};
  let port = 0;
  let updater: Updater;
  let releases: Server | undefined;
  const logs: string[] = [];

  beforeAll(async () => {
    port = await freePort();
    mkdirSync(join(prefix, 'bin'), { recursive: true });
    mkdirSync(join(prefix, 'run'), { recursive: true });
    // The no-systemd fallback, as install.sh writes it: a background process with a pidfile.
    const script = join(prefix, 'bin', 'allerac-service');
    writeFileSync(
      script,
      `#!/bin/sh
PIDFILE='${prefix}/run/allerac.pid'
stop() {
  if [ -f "$PIDFILE" ]; then
    pid=$(cat "$PIDFILE"); kill "$pid" 2>/dev/null
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    rm -f "$PIDFILE"
  fi
}
case "$1" in
  stop) stop ;;
  restart) stop
    PORT=${port} PREMIGRATE_SRC='${root}/premigrate-src' PREMIGRATE_DIR='${dataDir}/backups' \\
      nohup '${process.execPath}' '${prefix}/current/packages/node/server.js' >>'${prefix}/app.log' 2>&1 &
    echo $! >"$PIDFILE" ;;
  *) echo "usage: $0 stop|restart" >&2; exit 2 ;;
esac
`,
    );
    chmodSync(script, 0o755);
    for (const [version, bad] of [
      ['1.0.0', false],
      ['1.1.0', false],
      ['2.0.0', true],
    ] as const) {
      tarballs[version] = packFixture(root, version, bad);
    }
    // The node's data, and the archive the "migrating" bad release leaves behind.
    const store = await openStore({ dataDir });
    await store.settings.set('marker', 'before-2.0.0');
    const { archive } = await createArchive({ sql: store.db, dataDir }, { kind: 'pre-migrate' });
    writeFileSync(join(root, 'premigrate-src'), archive);
    await store.settings.set('marker', 'written-by-2.0.0-migration');
    await store.close();

    updater = new Updater(
      {
        layout,
        data: { dataDir, meshKeyFile: join(dataDir, 'mesh.key') },
        healthUrl: `http://127.0.0.1:${port}/health`,
        healthDeadlineMs: 8_000,
      },
      { service: defaultServiceControl(prefix), log: (m) => logs.push(m) },
    );
  }, 120_000);

  afterAll(async () => {
    try {
      execFileSync(join(prefix, 'bin', 'allerac-service'), ['stop']);
    } catch {
      // already stopped
    }
    await new Promise<void>((resolve) => (releases ? releases.close(() => resolve()) : resolve()));
    rmSync(root, { recursive: true, force: true });
  });

  const health = async () =>
    ((await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { version: string }).version;

  it('should install a first version and serve it', async () => {
    const outcome = await updater.apply(tarballs['1.0.0'] as string);
    expect(outcome).toEqual({ from: null, to: '1.0.0', healthy: true });
    expect(readlinkSync(join(prefix, 'current'))).toBe(join('versions', '1.0.0'));
    expect(existsSync(join(prefix, 'versions', '1.0.0', 'packages', 'node', 'server.js'))).toBe(true);
    expect(await health()).toBe('1.0.0');
  }, 60_000);

  it('should apply a new version beside the old one, then roll back by hand', async () => {
    const outcome = await updater.apply(tarballs['1.1.0'] as string);
    expect(outcome).toEqual({ from: '1.0.0', to: '1.1.0', healthy: true });
    expect(await health()).toBe('1.1.0');
    expect(layout.versions()).toEqual(['1.1.0', '1.0.0']);
    const back = await updater.rollback();
    expect(back).toMatchObject({ from: '1.1.0', to: '1.0.0', healthy: true });
    expect(layout.currentVersion()).toBe('1.0.0');
    expect(await health()).toBe('1.0.0');
  }, 60_000);

  it('should roll back by itself when the new version fails its health check, restoring the pre-migration data', async () => {
    await expect(updater.apply(tarballs['2.0.0'] as string)).rejects.toThrow(UpdateRolledBackError);
    expect(layout.currentVersion()).toBe('1.0.0');
    expect(await health()).toBe('1.0.0');
    const store = await openStore({ dataDir });
    try {
      expect(await store.settings.get('marker')).toBe('before-2.0.0');
    } finally {
      await store.close();
    }
    const history = updater.state().history.map((e) => `${e.action}:${e.to}:${e.result}`);
    expect(history).toEqual([
      'apply:1.0.0:ok',
      'apply:1.1.0:ok',
      'rollback:1.0.0:ok',
      'auto-rollback:1.0.0:ok',
      'apply:2.0.0:rolled-back',
    ]);
    expect(logs.join('\n')).toMatch(/restoring .*pre-migrate-9/);
  }, 90_000);

  it('should check a release URL only when allowed, and refuse a download with the wrong checksum', async () => {
    const tarball = readFileSync(tarballs['1.1.0'] as string);
    let sha256 = createHash('sha256').update(tarball).digest('hex');
    releases = createServer((request, response) => {
      if (request.url === '/release.json') {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ version: '1.1.0', tarball: 'app-1.1.0.tgz', sha256 }));
      } else if (request.url === '/app-1.1.0.tgz') response.end(tarball);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => releases?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(releases.address() as AddressInfo).port}/release.json`;
    const source = { kind: 'url' as const, url };
    await expect(checkForUpdate({ enabled: false, source }, '1.0.0')).rejects.toThrow(UpdatesDisabledError);
    const check = await checkForUpdate({ enabled: true, source }, '1.0.0');
    expect(check).toMatchObject({ available: true, latest: { version: '1.1.0' } });
    expect(check.latest.tarball).toMatch(/app-1\.1\.0\.tgz$/);

    const file = await updater.download(check.latest);
    const outcome = await updater.apply(file);
    expect(outcome.to).toBe('1.1.0');
    expect(await health()).toBe('1.1.0');

    sha256 = '0'.repeat(64);
    await expect(updater.download(await fetchLatestRelease(source))).rejects.toThrow(UpdateIntegrityError);
  }, 60_000);
});

describe('version order', () => {
  it('should order versions numerically', () => {
    expect(compareVersions('1.10.0', '1.9.3')).toBe(1);
    expect(compareVersions('1.0.0-rc.1', '1.0.0')).toBe(-1);
    expect(compareVersions('2.0.0', '2.0.0')).toBe(0);
  });

  it('should order numeric pre-release parts as numbers (rc.10 after rc.9)', () => {
    expect(compareVersions('1.0.0-rc.10', '1.0.0-rc.9')).toBe(1);
    expect(compareVersions('1.0.0-rc.9', '1.0.0-rc.10')).toBe(-1);
    expect(compareVersions('1.0.0-alpha', '1.0.0-alpha.1')).toBe(-1);
    expect(compareVersions('1.0.0-alpha.beta', '1.0.0-beta')).toBe(-1);
    expect(compareVersions('1.0.0+build.2', '1.0.0+build.1')).toBe(0);
  });

  it('should list installed versions newest first by semver, ignoring a directory that is no version', () => {
    const prefix = mkdtempSync(join(tmpdir(), 'allerac-versions-'));
    try {
      for (const v of ['1.0.0-rc.9', '1.0.0-rc.10', '1.0.0', 'scratch', '0.9.0']) {
        mkdirSync(join(prefix, 'versions', v), { recursive: true });
      }
      expect(new InstallLayout(prefix).versions()).toEqual([
        '1.0.0',
        '1.0.0-rc.10',
        '1.0.0-rc.9',
        '0.9.0',
        'scratch',
      ]);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  it('should refuse a release manifest whose version is not a semantic version', async () => {
    const manifest = JSON.stringify({ version: 'latest', tarball: 'a.tgz', sha256: '0'.repeat(64) });
    const fetchManifest = (async () => new Response(manifest)) as typeof fetch;
    await expect(
      fetchLatestRelease({ kind: 'url', url: 'http://127.0.0.1:9/release.json' }, fetchManifest),
    ).rejects.toThrow(/offers "latest", which is not a semantic version/);
  });
});

describe('service commands (--restart-cmd, --stop-cmd)', () => {
  it('should split a command like a shell, keeping quoted and escaped arguments whole', () => {
    expect(parseServiceCommand(`sudo  systemctl restart 'allerac node'`)).toEqual([
      'sudo',
      'systemctl',
      'restart',
      'allerac node',
    ]);
    expect(parseServiceCommand('/opt/my\\ app/bin/svc "re start"')).toEqual([
      '/opt/my app/bin/svc',
      're start',
    ]);
  });

  it('should refuse shell operators and an empty command, saying how to use a shell', () => {
    for (const command of [
      'systemctl restart allerac && echo ok',
      'svc restart | tee log',
      'svc > log',
      'svc *',
    ]) {
      expect(() => parseServiceCommand(command)).toThrow(UpdateError);
      expect(() => parseServiceCommand(command)).toThrow(/sh -c/);
    }
    expect(() => parseServiceCommand('   ')).toThrow(/empty/);
  });

  it('should run the parsed command with each argument intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'allerac-svc-'));
    try {
      const out = join(dir, 'argv file.json');
      const record =
        'require("node:fs").writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))';
      const command = quote([process.execPath, '-e', record, out, 'two words', '$literal']);
      const control = commandServiceControl(parseServiceCommand(command), parseServiceCommand('true'));
      await control.restart();
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(['two words', '$literal']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('update source failures', () => {
  const source = { kind: 'url' as const, url: 'https://updates.example/latest.json' };

  it('should report an unreachable source as the source failing, not as a node error', async () => {
    const unreachable = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    await expect(fetchLatestRelease(source, unreachable)).rejects.toMatchObject({
      name: 'UpdateError',
      message: expect.stringMatching(/cannot reach the update source .*fetch failed/),
    });
  });

  it('should report a source that answers with something other than JSON', async () => {
    const notJson = (async () => new Response('<html>captive portal</html>')) as unknown as typeof fetch;
    await expect(fetchLatestRelease(source, notJson)).rejects.toMatchObject({
      name: 'UpdateError',
      message: expect.stringMatching(/did not answer with JSON/),
    });
  });
});
