/**
 * The home's wiring: one network namespace per host, a veth pair from each host to a bridge in
 * the root namespace (the home's switch), addresses in 198.18.0.0/15, and link control with tc.
 */
import { BRIDGE, BRIDGE_ADDRESS, FIRST_HOST_OCTET, MAX_HOSTS, PREFIX, PREFIX_LENGTH } from './constants.js';
import { ip, run, tc, tryRun } from './shell.js';

/** One host's place on the LAN. */
export interface HostLink {
  /** Host name (also the node name). */
  name: string;
  /** 0-based position; the address is 198.18.0.(10 + index). */
  index: number;
  /** The host's network namespace. */
  netns: string;
  /** The root-namespace end of the host's veth pair, attached to the bridge ("the switch port"). */
  port: string;
  /** The host's address on the LAN. */
  address: string;
}

/** Latency, jitter and loss of a host's link, applied to each direction. */
export interface LinkConditions {
  delayMs?: number;
  jitterMs?: number;
  lossPercent?: number;
}

/** The address of the host at `index`. */
export function hostAddress(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_HOSTS) {
    throw new RangeError(`host index must be 0 to ${MAX_HOSTS - 1}`);
  }
  return `198.18.0.${FIRST_HOST_OCTET + index}`;
}

/** Creates the bridge with multicast snooping off, so mDNS queries reach every port. */
export function createBridge(): void {
  ip('link', 'add', BRIDGE, 'type', 'bridge');
  ip('link', 'set', BRIDGE, 'type', 'bridge', 'mcast_snooping', '0');
  ip('addr', 'add', `${BRIDGE_ADDRESS}/${PREFIX_LENGTH}`, 'dev', BRIDGE);
  ip('link', 'set', BRIDGE, 'up');
}

/** Creates a host: its namespace, lo up, a veth pair to the bridge, its address and a multicast route. */
export function addHost(name: string, index: number): HostLink {
  const link: HostLink = {
    name,
    index,
    netns: `${PREFIX}${name}`,
    port: `${PREFIX}p${index}`,
    address: hostAddress(index),
  };
  const peer = `${PREFIX}h${index}`;
  ip('netns', 'add', link.netns);
  ip('-n', link.netns, 'link', 'set', 'lo', 'up');
  ip('link', 'add', link.port, 'type', 'veth', 'peer', 'name', peer);
  ip('link', 'set', peer, 'netns', link.netns);
  ip('-n', link.netns, 'link', 'set', peer, 'name', 'eth0');
  ip('-n', link.netns, 'addr', 'add', `${link.address}/${PREFIX_LENGTH}`, 'dev', 'eth0');
  ip('-n', link.netns, 'link', 'set', 'eth0', 'multicast', 'on', 'up');
  // mDNS sends to 224.0.0.251; without this route the kernel has nowhere to send it.
  ip('-n', link.netns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');
  ip('link', 'set', link.port, 'master', BRIDGE);
  ip('link', 'set', link.port, 'up');
  return link;
}

let netemProbe: string | undefined | null = null;

/** Why `tc netem` cannot be used on this kernel, or undefined when it can (probed once on a throwaway veth). */
export function netemUnavailableReason(): string | undefined {
  if (netemProbe !== null) return netemProbe;
  const a = `${PREFIX}nprobe0`;
  const b = `${PREFIX}nprobe1`;
  try {
    ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
    tc('qdisc', 'add', 'dev', a, 'root', 'netem', 'delay', '1ms');
    netemProbe = undefined;
  } catch (error) {
    netemProbe = `tc netem is not available on this kernel (sch_netem, CONFIG_NET_SCH_NETEM): ${(error as Error).message}`;
  } finally {
    tryRun('ip', ['link', 'del', a]);
  }
  return netemProbe;
}

function netemArgs(conditions: LinkConditions): string[] {
  const args = ['netem'];
  if ((conditions.delayMs ?? 0) > 0 || (conditions.jitterMs ?? 0) > 0) {
    args.push('delay', `${conditions.delayMs ?? 0}ms`);
    if ((conditions.jitterMs ?? 0) > 0) args.push(`${conditions.jitterMs}ms`, 'distribution', 'normal');
  }
  if ((conditions.lossPercent ?? 0) > 0) args.push('loss', `${conditions.lossPercent}%`);
  return args;
}

/** Applies latency, jitter and loss to both directions of a host's link with tc netem. */
export function setLinkConditions(link: HostLink, conditions: LinkConditions): void {
  const args = netemArgs(conditions);
  // Toward the host: the switch port's egress. From the host: its eth0's egress.
  tc('qdisc', 'replace', 'dev', link.port, 'root', ...args);
  run('ip', ['netns', 'exec', link.netns, 'tc', 'qdisc', 'replace', 'dev', 'eth0', 'root', ...args]);
}

/** Removes any netem from a host's link. */
export function clearLinkConditions(link: HostLink): void {
  tryRun('tc', ['qdisc', 'del', 'dev', link.port, 'root']);
  tryRun('ip', ['netns', 'exec', link.netns, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
}

/** Unplugs a host: its switch port goes down, so it has no carrier and nobody can reach it. */
export function cutOff(link: HostLink): void {
  ip('link', 'set', link.port, 'down');
}

/** Plugs a host back in. */
export function restore(link: HostLink): void {
  ip('link', 'set', link.port, 'up');
}

/**
 * Splits the home in two: each switch port drops IPv4 packets that come from the other side
 * (a tc filter on the port's egress), multicast included. The root namespace still reaches both
 * sides, so a scenario can drive every node during the partition.
 */
export function partition(sideA: HostLink[], sideB: HostLink[]): void {
  const block = (targets: HostLink[], sources: HostLink[]) => {
    for (const target of targets) {
      tc('qdisc', 'replace', 'dev', target.port, 'clsact');
      for (const source of sources) {
        tc(
          'filter',
          'add',
          'dev',
          target.port,
          'egress',
          'protocol',
          'ip',
          'u32',
          'match',
          'ip',
          'src',
          `${source.address}/32`,
          // No gact (drop) action on minimal kernels: redirecting to a port that is down drops it just the same.
          'action',
          'mirred',
          'egress',
          'redirect',
          'dev',
          BLACKHOLE,
        );
      }
    }
  };
  ensureBlackhole();
  block(sideA, sideB);
  block(sideB, sideA);
}

/** A veth end that stays down: packets redirected to it are dropped. */
const BLACKHOLE = `${PREFIX}drop0`;

function ensureBlackhole(): void {
  try {
    ip('link', 'show', BLACKHOLE);
  } catch {
    ip('link', 'add', BLACKHOLE, 'type', 'veth', 'peer', 'name', `${PREFIX}drop1`);
  }
}

/** Ends a partition: removes the filters from every port. */
export function heal(links: HostLink[]): void {
  for (const link of links) tryRun('tc', ['qdisc', 'del', 'dev', link.port, 'clsact']);
}

/** Namespaces and links whose names start with the prefix. */
export function findLeftovers(): { namespaces: string[]; links: string[] } {
  const namespaces = run('ip', ['netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(PREFIX));
  const links = run('ip', ['-o', 'link', 'show'])
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith(PREFIX));
  return { namespaces, links };
}

/** Deletes every namespace and link with the prefix (a veth goes with its namespace or its peer). */
export function removeNetwork(): { namespaces: string[]; links: string[] } {
  const found = findLeftovers();
  for (const ns of found.namespaces) tryRun('ip', ['netns', 'del', ns]);
  for (const link of findLeftovers().links) tryRun('ip', ['link', 'del', link]);
  return found;
}
