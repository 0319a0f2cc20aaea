import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../src/config.js';
import { SHUTDOWN_GRACE_MS } from '../src/daemon.js';
import { DATA_DIR_LOCK_FILE } from '../src/data-dir-lock.js';
import { resolveLogFormat } from '../src/logger.js';
import { installShutdownSignals, REPEATED_SIGNAL_MS, SHUTDOWN_OVERRUN_MS } from '../src/shutdown-signals.js';
import { formatStartBanner } from '../src/start-banner.js';
import { cliResult, runCli, startNodeCli } from './helpers/cli-process.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'allerac-terminal-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Sends SIGINT and resolves with the exit code and how long the process took to exit. */
async function interrupt(run: {
  child: { kill(signal: NodeJS.Signals): boolean };
  exited: Promise<unknown>;
}) {
  const sentAt = Date.now();
  run.child.kill('SIGINT');
  const code = await run.exited;
  return { code, ms: Date.now() - sentAt };
}

describe('the log format', () => {
  it('should be readable on a terminal, JSON elsewhere, and forced by ALLERAC_LOG_FORMAT', () => {
    expect(resolveLogFormat({}, true)).toBe('pretty');
    expect(resolveLogFormat({}, false)).toBe('json');
    expect(resolveLogFormat({ ALLERAC_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(resolveLogFormat({ ALLERAC_LOG_FORMAT: 'Pretty' }, false)).toBe('pretty');
    expect(() => resolveLogFormat({ ALLERAC_LOG_FORMAT: 'xml' }, true)).toThrow(ConfigError);
  });

  it('should refuse an unknown ALLERAC_LOG_FORMAT before anything opens', async () => {
    const dataDir = tempDir();
    const result = await cliResult(['start', '--data-dir', dataDir, '--http-port', '0', '--p2p-port', '0'], {
      env: { ALLERAC_LOG_FORMAT: 'xml' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ALLERAC_LOG_FORMAT must be json or pretty, not "xml"');
    expect(existsSync(join(dataDir, 'db'))).toBe(false);
  }, 60_000);
});

describe('the start banner', () => {
  it('should give the URL, and on a fresh node say to open it to finish setup, keeping the setup-code line', () => {
    const fresh = formatStartBanner({
      name: 'Sala',
      url: 'http://127.0.0.1:8080',
      setupCode: 'ABCD-EFGH',
      httpHost: '127.0.0.1',
    });
    expect(fresh).toContain('Open http://127.0.0.1:8080 to finish setup.');
    expect(fresh).toContain('or from another machine enter the setup code: ABCD-EFGH');
    const claimed = formatStartBanner({ name: 'Sala', url: 'http://127.0.0.1:8080', httpHost: '0.0.0.0' });
    expect(claimed).toContain('Open http://127.0.0.1:8080 in a browser.');
    expect(claimed).not.toContain('setup');
    expect(claimed).toContain('Other machines of the home reach it');
  });
});

describe('Ctrl-C and the second Ctrl-C', () => {
  const fakeNode = () => {
    const close = vi.fn(() => new Promise<void>(() => {}));
    return { node: { logger: pino({ level: 'silent' }), close }, close };
  };

  it('should stop once for one press (npx forwards a copy), and exit at once on a second press', () => {
    const { node, close } = fakeNode();
    const signals = new EventEmitter();
    const exit = vi.fn();
    let now = 1_000;
    const uninstall = installShutdownSignals(node, { graceMs: 10, exit, now: () => now, signals });
    signals.emit('SIGINT');
    now += REPEATED_SIGNAL_MS - 1;
    signals.emit('SIGINT');
    expect(close).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
    now += 1_000;
    signals.emit('SIGINT');
    expect(exit).toHaveBeenCalledWith(130);
    uninstall();
  });

  it('should exit anyway when the shutdown overruns its grace period by far', () => {
    vi.useFakeTimers();
    try {
      const { node } = fakeNode();
      const signals = new EventEmitter();
      const exit = vi.fn();
      const uninstall = installShutdownSignals(node, { graceMs: 1_000, exit, signals });
      signals.emit('SIGTERM');
      vi.advanceTimersByTime(1_000 + SHUTDOWN_OVERRUN_MS - 1);
      expect(exit).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(exit).toHaveBeenCalledWith(1);
      uninstall();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('allerac start in a terminal and in a pipe', () => {
  it('should write readable lines when asked, print the banner, and stop on SIGINT after its reader is gone', async () => {
    const dataDir = tempDir();
    const node = await startNodeCli(dataDir, [], { env: { ALLERAC_LOG_FORMAT: 'pretty' } });
    await node.waitForOutput(/Press Ctrl-C to stop/);
    expect(node.stdout()).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: allerac node started$/m);
    expect(node.stdout()).not.toMatch(/^\{"level"/m);
    expect(node.stderr()).toContain(`Open ${node.url} to finish setup.`);
    expect(node.stderr()).toMatch(/or from another machine enter the setup code: [A-Z0-9-]+/);
    // `allerac start | tee log` and Ctrl-C: tee dies of it too, so the node writes into a closed pipe.
    node.child.stdout?.destroy();
    const { code, ms } = await interrupt(node);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(SHUTDOWN_GRACE_MS);
    // A clean stop: the store closed and the data dir released.
    expect(existsSync(join(dataDir, DATA_DIR_LOCK_FILE))).toBe(false);
    expect(existsSync(join(dataDir, 'node.json'))).toBe(false);
  }, 240_000);

  it('should log JSON into a pipe and stop on SIGINT while the pipe is read', async () => {
    const dataDir = tempDir();
    const node = await startNodeCli(dataDir);
    expect(node.stdout()).toMatch(/^\{"level":30,.*"msg":"allerac node started"\}$/m);
    const { code, ms } = await interrupt(node);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(SHUTDOWN_GRACE_MS);
    expect(node.stdout()).toMatch(/"msg":"stopped"/);
  }, 240_000);
});

describe('port clashes', () => {
  const occupy = (): Promise<{ server: Server; port: number }> =>
    new Promise((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        resolve({ server, port: typeof address === 'object' && address !== null ? address.port : 0 });
      });
    });

  it.each([
    ['--p2p-port', 'ALLERAC_P2P_PORT'],
    ['--http-port', 'ALLERAC_HTTP_PORT'],
  ])(
    'should name %s to change, with a free port, and no stack trace',
    async (flag, env) => {
      const { server, port } = await occupy();
      try {
        const ports =
          flag === '--p2p-port'
            ? ['--p2p-port', String(port), '--http-port', '0']
            : ['--http-port', String(port), '--p2p-port', '0'];
        const run = runCli(['start', '--data-dir', tempDir(), ...ports]);
        expect(await run.exited).toBe(1);
        const [, suggested] =
          run
            .stderr()
            .match(
              new RegExp(`^allerac: port ${port} is in use: start with ${flag} (\\d+) \\(or ${env}\\)$`, 'm'),
            ) ?? [];
        expect(suggested, run.stderr()).toBeDefined();
        expect(Number(suggested)).toBeGreaterThan(port);
        expect(run.stderr()).not.toMatch(/\n\s+at |transportManager|EADDRINUSE/);
      } finally {
        server.close();
      }
    },
    180_000,
  );
});
