/**
 * A running home LAN: hosts as network namespaces on a bridge, each with an ollama-sim and a real
 * `allerac` node (mDNS on, one shared mesh key). Teardown always runs: `stop()`, a process 'exit'
 * hook, optional SIGINT/SIGTERM handlers, and a sweep of leftovers at start.
 */

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NodeClient, type PeerInfo } from './client.js';
import { HTTP_PORT, NODE_CLI, OLLAMA_PORT, P2P_PORT, PIDFILE, RUN_DIR, SIM_CLI } from './constants.js';
import { LanProcessError } from './errors.js';
import { EMBEDDING_MODEL, type HostSpec, validateHome } from './home.js';
import {
  addHost,
  clearLinkConditions,
  createBridge,
  cutOff,
  type HostLink,
  heal,
  type LinkConditions,
  partition,
  removeNetwork,
  restore,
  setLinkConditions,
} from './network.js';
import {
  claimPidfile,
  type HostProcess,
  killLeftoverProcesses,
  spawnInNamespace,
  stopProcess,
} from './processes.js';
import { assertLanAvailable } from './shell.js';
import { waitUntil } from './wait.js';

const execFileAsync = promisify(execFile);

/** One host of the running LAN. */
export interface LanHost {
  readonly spec: HostSpec;
  readonly link: HostLink;
  /** The node's URL, reachable from the root namespace. */
  readonly url: string;
  /** The ollama-sim's URL, reachable from the root namespace (for /_sim/faults and stats). */
  readonly simUrl: string;
  readonly dataDir: string;
  /** An admin token for the node's APIs. */
  readonly token: string;
  readonly client: NodeClient;
  node: HostProcess | undefined;
  sim: HostProcess | undefined;
  /** Milliseconds from spawning the node to its first healthy /health. */
  startupMs: number;
}

/** Options of {@link startLan}. */
export interface LanOptions {
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Install SIGINT/SIGTERM handlers that tear down and exit (the CLI does; tests do not). */
  handleSignals?: boolean;
  /** How many nodes start at once (PGlite's first start is CPU-heavy). Default 4. */
  startConcurrency?: number;
  /** Node log level (default info; the logs are in RUN_DIR/<host>/node.log). */
  logLevel?: string;
}

/** What `sweepLeftovers` removed. */
export interface SweepResult {
  processes: number[];
  namespaces: string[];
  links: string[];
}

/** Removes processes, namespaces and links left by an earlier run that crashed. */
export function sweepLeftovers(): SweepResult {
  const processes = killLeftoverProcesses();
  const { namespaces, links } = removeNetwork();
  return { processes, namespaces, links };
}

/** Kills everything synchronously: the last resort from a process 'exit' hook. */
function teardownSync(hosts: readonly LanHost[]): void {
  for (const host of hosts) {
    for (const proc of [host.node, host.sim]) {
      if (proc?.isRunning()) proc.child.kill('SIGKILL');
    }
  }
  removeNetwork();
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Builds and starts a home LAN; call `stop()` when done (a process 'exit' hook is the backstop). */
export async function startLan(home: readonly HostSpec[], options: LanOptions = {}): Promise<Lan> {
  validateHome(home);
  assertLanAvailable();
  const lan = new Lan(home, options);
  try {
    await lan.start();
  } catch (error) {
    await lan.stop();
    throw error;
  }
  return lan;
}

/** A home LAN of real nodes in network namespaces. */
export class Lan {
  readonly hosts: LanHost[] = [];
  private readonly log: (line: string) => void;
  private stopping: Promise<void> | undefined;
  private readonly onExit = () => teardownSync(this.hosts);
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.log(`${signal}: tearing the LAN down`);
    void this.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  /** performance.now() when the first node was spawned. */
  nodesSpawnedAt = Number.NaN;
  /** performance.now() when the last node answered /health. */
  readyAt = Number.NaN;
  /** The shared mesh key file every node points at. */
  readonly meshKeyFile = join(RUN_DIR, 'mesh.key');

  constructor(
    private readonly home: readonly HostSpec[],
    private readonly options: LanOptions,
  ) {
    this.log = options.log ?? (() => {});
  }

  /** Sweeps leftovers, wires the namespaces, starts every ollama-sim and node, waits until all are healthy. */
  async start(): Promise<void> {
    claimPidfileAfterSweep(this.log);
    process.on('exit', this.onExit);
    if (this.options.handleSignals === true) {
      process.once('SIGINT', this.onSignal);
      process.once('SIGTERM', this.onSignal);
    }
    // The pnet swarm-key format (the node's mesh/mesh-key.ts): every host shares this one key.
    writeFileSync(this.meshKeyFile, `/key/swarm/psk/1.0.0/\n/base16/\n${randomBytes(32).toString('hex')}\n`, {
      mode: 0o600,
    });
    createBridge();
    this.home.forEach((spec, index) => {
      const link = addHost(spec.name, index);
      const dataDir = join(RUN_DIR, spec.name);
      mkdirSync(dataDir, { recursive: true });
      this.hosts.push({
        spec,
        link,
        url: `http://${link.address}:${HTTP_PORT}`,
        simUrl: `http://${link.address}:${OLLAMA_PORT}`,
        dataDir,
        token: '',
        client: new NodeClient(`http://${link.address}:${HTTP_PORT}`, ''),
        node: undefined,
        sim: undefined,
        startupMs: Number.NaN,
      });
    });
    this.log(`wired ${this.hosts.length} hosts on ${this.hosts[0]?.link.address ?? ''}…`);
    await mapLimited(this.hosts, 8, (host) => this.startSim(host));
    await mapLimited(this.hosts, 4, async (host) => {
      const { stdout } = await execFileAsync(
        process.execPath,
        [NODE_CLI, 'token', '--data-dir', host.dataDir, '--name', 'lan-sim'],
        {
          timeout: 30_000,
        },
      );
      const token = stdout.trim();
      Object.assign(host, { token, client: new NodeClient(host.url, token) });
    });
    this.nodesSpawnedAt = performance.now();
    await mapLimited(this.hosts, this.options.startConcurrency ?? 4, (host) => this.startNode(host));
    this.readyAt = performance.now();
    this.log(`all ${this.hosts.length} nodes healthy`);
  }

  private async startSim(host: LanHost): Promise<void> {
    const models = [...host.spec.models, EMBEDDING_MODEL];
    const preload = host.spec.preload ?? host.spec.models;
    host.sim = spawnInNamespace(
      host.link.netns,
      SIM_CLI,
      [
        '--port',
        String(OLLAMA_PORT),
        '--host',
        '0.0.0.0',
        '--profile',
        host.spec.profile,
        '--models',
        models.join(','),
        ...(preload.length > 0 ? ['--preload', preload.join(',')] : []),
      ],
      join(host.dataDir, 'ollama-sim.log'),
    );
    await this.waitHealthy(host, host.sim, `${host.simUrl}/api/version`, 'ollama-sim');
  }

  private async startNode(host: LanHost): Promise<void> {
    const started = performance.now();
    host.node = spawnInNamespace(
      host.link.netns,
      NODE_CLI,
      [
        'start',
        '--name',
        host.spec.name,
        '--http-port',
        String(HTTP_PORT),
        '--http-host',
        '0.0.0.0',
        '--p2p-port',
        String(P2P_PORT),
        '--data-dir',
        host.dataDir,
        '--ollama-url',
        `http://127.0.0.1:${OLLAMA_PORT}`,
        '--mesh-key-file',
        this.meshKeyFile,
        '--log-level',
        this.options.logLevel ?? 'info',
      ],
      join(host.dataDir, 'node.log'),
      {
        ALLERAC_MDNS: 'on',
        ALLERAC_P2P_HOST: '0.0.0.0',
        ...(host.spec.specializations
          ? { ALLERAC_SPECIALIZATIONS: host.spec.specializations.join(',') }
          : {}),
      },
    );
    await this.waitHealthy(host, host.node, `${host.url}/health`, 'node');
    host.startupMs = performance.now() - started;
    this.log(`  ${host.spec.name} up at ${host.url} in ${Math.round(host.startupMs)} ms`);
  }

  private async waitHealthy(host: LanHost, proc: HostProcess, url: string, what: string): Promise<void> {
    await waitUntil(
      async () => {
        if (!proc.isRunning()) {
          throw new LanProcessError(
            `${what} on ${host.spec.name} exited; see ${join(host.dataDir, `${what === 'node' ? 'node' : 'ollama-sim'}.log`)}\n${tail(join(host.dataDir, `${what === 'node' ? 'node' : 'ollama-sim'}.log`))}`,
          );
        }
        const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        return response.ok ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 100, what: `${what} on ${host.spec.name} to answer ${url}` },
    ).catch((error: unknown) => {
      if (!proc.isRunning())
        throw new LanProcessError(
          `${what} on ${host.spec.name} exited\n${tail(join(host.dataDir, `${what === 'node' ? 'node' : 'ollama-sim'}.log`))}`,
        );
      throw error;
    });
  }

  /** The host named `name`. */
  host(name: string): LanHost {
    const host = this.hosts.find((h) => h.spec.name === name);
    if (host === undefined) throw new RangeError(`no host named ${name}`);
    return host;
  }

  /**
   * The last warnings and errors each node logged (pino level 40 and up), `perHost` at most per
   * host: what a failed scenario's report shows, since CI keeps only the test output.
   */
  recentWarnings(perHost = 4): string[] {
    return this.hosts.flatMap((host) => {
      const lines = tail(join(host.dataDir, 'node.log'), 64_000).split('\n');
      const warnings: string[] = [];
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        try {
          const entry = JSON.parse(line) as { level?: number };
          if ((entry.level ?? 0) >= 40) warnings.push(`${host.spec.name}: ${line.slice(0, 300)}`);
        } catch {
          // A line cut by the tail's start.
        }
      }
      return warnings.slice(-perHost);
    });
  }

  /** Names of the peers `name` sees online. */
  async onlinePeers(name: string): Promise<string[]> {
    const peers: PeerInfo[] = await this.host(name).client.peers();
    return peers
      .filter((p) => p.status === 'online')
      .map((p) => p.name)
      .sort();
  }

  /**
   * Waits until every host in `names` sees every other one online (and, with `absent`, none of
   * those online); returns the milliseconds it took.
   */
  async waitForMesh(options: {
    names?: string[];
    absent?: string[];
    timeoutMs: number;
    what?: string;
  }): Promise<number> {
    const started = performance.now();
    const names = options.names ?? this.hosts.map((h) => h.spec.name);
    const absent = options.absent ?? [];
    const last = new Map<string, string>();
    await waitUntil(
      async () => {
        const views = await Promise.all(
          names.map(async (name) => {
            try {
              const online = await this.onlinePeers(name);
              last.set(name, online.join(','));
              const seesAll = names.every((other) => other === name || online.includes(other));
              const seesNoneAbsent = absent.every((gone) => !online.includes(gone));
              return seesAll && seesNoneAbsent;
            } catch (error) {
              last.set(name, `unreachable (${(error as Error).message})`);
              return false;
            }
          }),
        );
        return views.every(Boolean) ? true : undefined;
      },
      {
        timeoutMs: options.timeoutMs,
        intervalMs: 200,
        what: options.what ?? `${names.length} nodes to see each other`,
        describe: () => [...last].map(([n, v]) => `${n} sees [${v}]`).join('; '),
      },
    );
    return performance.now() - started;
  }

  /** SIGKILLs a host's node (a crash or power cut of the process). */
  killNode(name: string): void {
    const host = this.host(name);
    host.node?.child.kill('SIGKILL');
  }

  /** Waits for a killed node to be gone, then starts it again with the same data dir. */
  async restartNode(name: string): Promise<void> {
    const host = this.host(name);
    if (host.node?.isRunning()) await stopProcess(host.node);
    await this.startNode(host);
  }

  /** Unplugs a host from the switch. */
  cutOff(name: string): void {
    cutOff(this.host(name).link);
  }

  /** Plugs a host back in. */
  restore(name: string): void {
    restore(this.host(name).link);
  }

  /** Applies latency, jitter and loss to a host's link (tc netem, both directions). */
  setLink(name: string, conditions: LinkConditions): void {
    setLinkConditions(this.host(name).link, conditions);
  }

  /** Removes a host's link conditions. */
  clearLink(name: string): void {
    clearLinkConditions(this.host(name).link);
  }

  /** Splits the home into two sides that cannot reach each other. */
  partition(sideA: string[], sideB: string[]): void {
    partition(
      sideA.map((n) => this.host(n).link),
      sideB.map((n) => this.host(n).link),
    );
  }

  /** Ends a partition. */
  heal(): void {
    heal(this.hosts.map((h) => h.link));
  }

  /**
   * Puts a used LAN back to its first state for the next scenario: links healed, plugged in and
   * clean, every node running, all seeing each other.
   */
  async reset(timeoutMs = 90_000): Promise<void> {
    this.heal();
    for (const host of this.hosts) {
      clearLinkConditions(host.link);
      restore(host.link);
    }
    for (const host of this.hosts) {
      if (host.node === undefined || !host.node.isRunning()) await this.startNode(host);
    }
    await this.waitForMesh({ timeoutMs, what: 'the LAN to be whole again' });
  }

  /** Stops every process (SIGTERM, then SIGKILL), deletes namespaces and links and the run dir. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(
        this.hosts.flatMap((host) =>
          [host.node, host.sim].map((p) => (p ? stopProcess(p, 3_000) : undefined)),
        ),
      );
      teardownSync(this.hosts);
      rmSync(RUN_DIR, { recursive: true, force: true });
      process.off('exit', this.onExit);
      process.off('SIGINT', this.onSignal);
      process.off('SIGTERM', this.onSignal);
      this.log('LAN torn down');
    })();
    return this.stopping;
  }
}

function claimPidfileAfterSweep(log: (line: string) => void): void {
  // Refuses first when another live harness owns the LAN, so we never sweep a running one away.
  claimPidfileCheckOnly();
  const swept = sweepLeftovers();
  if (swept.processes.length + swept.namespaces.length + swept.links.length > 0) {
    log(
      `removed leftovers of an earlier run: ${swept.processes.length} processes, ` +
        `${swept.namespaces.length} namespaces, ${swept.links.length} links`,
    );
  }
  rmSync(RUN_DIR, { recursive: true, force: true });
  claimPidfile();
}

function claimPidfileCheckOnly(): void {
  if (!existsSync(PIDFILE)) return;
  const content = readFileSync(PIDFILE, 'utf8');
  claimPidfile();
  // claimPidfile overwrote the list; put it back so the sweep can read the old pids.
  writeFileSync(PIDFILE, content);
}

function tail(file: string, chars = 2_000): string {
  try {
    return readFileSync(file, 'utf8').slice(-chars);
  } catch {
    return '';
  }
}
