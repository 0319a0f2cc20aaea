/**
 * The mesh benchmark's harness: a throwaway network namespace whose loopback carries multicast
 * (so real mDNS never leaves it), and mesh nodes (_mesh-node.ts) spawned into it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';

const NODE_SCRIPT = new URL('./_mesh-node.ts', import.meta.url).pathname;

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'needs the `ip` tool (iproute2)';
  }
  return undefined;
}

/** Creates a namespace with a multicast loopback; `cleanup` deletes it. */
export function createNetns(): { name: string; cleanup(): void } {
  const name = `allerac-bench-${process.pid}-${randomBytes(3).toString('hex')}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  ip('netns', 'add', name);
  const cleanup = () => {
    try {
      ip('netns', 'del', name);
    } catch {
      // already gone
    }
  };
  try {
    ip('-n', name, 'link', 'set', 'lo', 'up');
    ip('-n', name, 'link', 'set', 'lo', 'multicast', 'on');
    ip('-n', name, 'route', 'add', '224.0.0.0/4', 'dev', 'lo');
  } catch (error) {
    cleanup();
    throw error;
  }
  return { name, cleanup };
}

/** One event or reply line of a node. */
export type NodeLine = Record<string, unknown> & { event?: string; reply?: number };

/** A mesh node in its own process inside the namespace. */
export class MeshProcess {
  readonly lines: NodeLine[] = [];
  peerId = '';
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private done = false;
  private nextId = 1;

  constructor(netns: string, config: { name: string; dataDir: string; meshKeyFile: string }) {
    this.child = spawn(
      'ip',
      ['netns', 'exec', netns, process.execPath, '--import', 'tsx', NODE_SCRIPT, JSON.stringify(config)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    void this.exited.then(() => {
      this.done = true;
      for (const wake of this.waiters) wake();
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const parsed = JSON.parse(line) as NodeLine;
      this.lines.push(parsed);
      if (parsed.event === 'ready') this.peerId = String(parsed.peerId);
      for (const wake of this.waiters) wake();
    });
  }

  /** Waits for a line that matches, bounded by `timeoutMs`. */
  waitFor(predicate: (line: NodeLine) => boolean, timeoutMs: number, what: string): Promise<NodeLine> {
    return new Promise((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = () => {
        const found = this.lines.find(predicate);
        if (found !== undefined) {
          finish();
          resolve(found);
        } else if (this.done) {
          finish();
          reject(new Error(`the node exited while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Waits until the node listens. */
  ready(): Promise<NodeLine> {
    return this.waitFor((l) => l.event === 'ready', 30_000, 'ready');
  }

  /** Sends a command and returns its reply's result. */
  async request<T>(cmd: string, args: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    this.child.stdin?.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    return (await this.waitFor((l) => l.reply === id, 15_000, `reply to ${cmd}`)).result as T;
  }

  /** SIGKILL: no leave message, as a crash or a pulled plug. */
  kill(): void {
    this.child.kill('SIGKILL');
  }
}
