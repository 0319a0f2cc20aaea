/** The homes the harness can build: which hosts, their hardware profile and their models. */

/** An ollama-sim hardware profile (see simulations/ollama-sim/README.md). */
export type SimProfile = 'gpu' | 'cpu' | 'laptop' | 'fast';

/** One machine of the home. */
export interface HostSpec {
  /** Host and node name: 1 to 12 of [a-z0-9-], so interface names stay under 16 characters. */
  name: string;
  profile: SimProfile;
  /** Chat models installed on its Ollama. */
  models: string[];
  /** Models loaded at start (default: all of `models`). */
  preload?: string[];
  specializations?: string[];
}

/** The embedding model every host has, so memories can be embedded locally. */
export const EMBEDDING_MODEL = 'all-minilm:latest';

/** The default home of the issue: a CPU kitchen box, a GPU office box and a CPU bedroom box. */
export const DEFAULT_HOME: readonly HostSpec[] = [
  { name: 'kitchen', profile: 'cpu', models: ['llama3.2:3b'] },
  { name: 'office', profile: 'gpu', models: ['llama3.1:8b', 'llama3.2:3b'] },
  { name: 'bedroom', profile: 'cpu', models: ['llama3.2:3b'] },
];

/**
 * A home of `n` hosts: the default three first, then small CPU boxes (`room-04`…) with one model,
 * which keeps a 20-node home within a few GB of memory.
 */
export function homeOfSize(n: number): HostSpec[] {
  if (!Number.isInteger(n) || n < 1 || n > 200) throw new RangeError('a home has 1 to 200 hosts');
  const hosts = DEFAULT_HOME.slice(0, n).map((h) => ({ ...h, models: [...h.models] }));
  for (let i = hosts.length + 1; i <= n; i++) {
    hosts.push({ name: `room-${String(i).padStart(2, '0')}`, profile: 'cpu', models: ['llama3.2:3b'] });
  }
  return hosts;
}

/** Throws on names the harness cannot use as namespace and node names. */
export function validateHome(home: readonly HostSpec[]): void {
  const seen = new Set<string>();
  for (const host of home) {
    if (!/^[a-z0-9][a-z0-9-]{0,11}$/.test(host.name)) {
      throw new RangeError(`host name "${host.name}" must be 1 to 12 of a-z, 0-9 and -`);
    }
    if (seen.has(host.name)) throw new RangeError(`host name "${host.name}" is used twice`);
    seen.add(host.name);
  }
}
