/** Helpers for benchmarks that run real processes: the node CLI and the ollama-sim CLI. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = join(import.meta.dirname, '..', '..');
export const NODE_CLI = join(root, 'packages', 'node', 'dist', 'cli.js');
/** The installed `allerac` command, as users start a node (it adds its V8 flags, see the file). */
export const NODE_BIN = join(root, 'packages', 'node', 'bin', 'allerac.js');
export const SIM_CLI = join(root, 'simulations', 'ollama-sim', 'dist', 'cli.js');

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Polls `url` until it answers 200; returns the milliseconds it took. Bounded by `timeoutMs`. */
export async function waitHealthy(url: string, timeoutMs = 30_000, intervalMs = 10): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    try {
      const response = await fetch(url);
      if (response.ok) return performance.now() - start;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms`);
}

/** Starts ollama-sim as its own process. */
export async function startSimProcess(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [SIM_CLI, '--port', String(port), ...args], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/api/version`);
  return { url, child };
}

/** Starts an allerac node (`allerac start`) as its own process with an empty data dir. */
export async function startNodeProcess(
  ollamaUrl: string,
  extra: string[] = [],
  env: Record<string, string> = {},
  /** Options for Node itself, before the script (V8 flags such as --liftoff-only). */
  nodeArgs: string[] = [],
  /** The `allerac` command to run: this tree's, or another build's (bench `ab`). */
  bin: string = NODE_BIN,
): Promise<{ url: string; child: ChildProcess; dataDir: string; startToHealthyMs: number }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'allerac-bench-'));
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      bin,
      'start',
      '--data-dir',
      dataDir,
      '--http-port',
      String(port),
      '--p2p-port',
      '0',
      '--ollama-url',
      ollamaUrl,
      '--log-level',
      'warn',
      ...extra,
    ],
    {
      stdio: 'ignore',
      env: {
        ...process.env,
        ALLERAC_MDNS: 'off',
        ALLERAC_P2P_HOST: '127.0.0.1',
        // The sim's fast profile runs 256 generations at once; a user tells the node their Ollama's
        // OLLAMA_NUM_PARALLEL the same way. 64 covers the widest load shape (64 streams).
        ALLERAC_NUM_PARALLEL: process.env.BENCH_NUM_PARALLEL ?? '64',
        ...env,
      },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/health`);
  return { url, child, dataDir, startToHealthyMs: performance.now() - started };
}

const FLOOR_PROXY = join(root, 'simulations', 'bench', '_floor-proxy.ts');

/** Runs a bench script with tsx as its own process; resolves with the port of its first line, `{"port":N}`. */
export async function startPortScript(
  script: string,
  args: string[],
): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const { port } = JSON.parse(line) as { port: number };
  return { port, child };
}

/** The floor proxy (`_floor-proxy.ts`) in front of `backendUrl`, as its own process. */
export async function startFloorProxy(
  mode: 'pipe' | 'parse',
  backendUrl: string,
): Promise<{ url: string; child: ChildProcess }> {
  const { port, child } = await startPortScript(FLOOR_PROXY, [mode, backendUrl]);
  return { url: `http://127.0.0.1:${port}`, child };
}

/** Resident set size of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** Stops a child and waits for it to exit (SIGKILL after 5 s). */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Time to the first chunk of a streamed /api/chat, and tokens/s over the rest of the stream.
 * Throws on an error status, an error line in the stream, or a stream without its final object.
 */
export async function streamChat(
  baseUrl: string,
  model: string,
  numPredict: number,
): Promise<{ ttftMs: number; tokensPerSecond: number; tokens: number }> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/api/chat`, {
    method: 'POST',
    body: JSON.stringify({
      model,
      messages: [{ role: 'user', content: 'bench' }],
      options: { num_predict: numPredict },
    }),
  });
  if (!response.ok) throw new Error(`${baseUrl}: ${response.status} ${await response.text()}`);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let ttftMs = Number.NaN;
  let buffered = '';
  let tokens = 0;
  let finished = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (Number.isNaN(ttftMs)) ttftMs = performance.now() - started;
    buffered += decoder.decode(value, { stream: true });
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('"done":false')) tokens += 1;
      else if (line.includes('"done":true')) finished = true;
      else if (line.startsWith('{"error"')) throw new Error(`${baseUrl}: ${line}`);
    }
  }
  if (!finished) throw new Error(`${baseUrl}: the stream ended without its final object`);
  return { ttftMs, tokensPerSecond: tokens / ((performance.now() - started - ttftMs) / 1000), tokens };
}
