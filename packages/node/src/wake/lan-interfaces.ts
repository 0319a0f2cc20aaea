/**
 * This machine's home-LAN interfaces: where its MACs for the card come from, and where magic
 * packets are broadcast. Pure over `os.networkInterfaces()`'s shape, so it is tested on fixed input.
 */
import type { NetworkInterfaceInfo } from 'node:os';

/** One IPv4 interface on the home's LAN. */
export interface LanInterface {
  /** OS name, e.g. `eth0`, `enp3s0`, `wlan0`. */
  name: string;
  /** Lowercase `aa:bb:cc:dd:ee:ff`. */
  mac: string;
  /** Its IPv4 address. */
  address: string;
  /** The directed broadcast address of its subnet, where a magic packet goes. */
  broadcast: string;
}

/**
 * Names of virtual interfaces: container and VM bridges, VPN tunnels, veth ends. Their MACs wake
 * nothing, and a broadcast on them never reaches the home's machines.
 */
const VIRTUAL_NAME =
  /^(docker|br-|veth|virbr|vmnet|vboxnet|cni|flannel|cali|weave|podman|lxc|lxd|tailscale|zt|wg|tun|tap|utun)/i;

/**
 * Whether an IPv4 address is on a home LAN: RFC 1918 private ranges, link-local, or 198.18.0.0/15
 * (RFC 2544's benchmarking range, never routed on the internet, which the LAN simulation uses).
 */
export function isLanIPv4(address: string): boolean {
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return false;
  const [a, b] = octets as [number, number, number, number];
  return (
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    (a === 198 && (b === 18 || b === 19))
  );
}

/** The broadcast address of `address` under `netmask` (both dotted IPv4). */
export function broadcastOf(address: string, netmask: string): string {
  const a = address.split('.').map(Number);
  const m = netmask.split('.').map(Number);
  return a.map((octet, i) => (octet | (~(m[i] ?? 0) & 0xff)) & 0xff).join('.');
}

/** The LAN interfaces among `interfaces`: IPv4, not internal, not virtual, with a real MAC. */
export function lanInterfaces(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): LanInterface[] {
  const found: LanInterface[] = [];
  for (const [name, infos] of Object.entries(interfaces)) {
    if (VIRTUAL_NAME.test(name)) continue;
    for (const info of infos ?? []) {
      if (info.family !== 'IPv4' || info.internal) continue;
      if (!isLanIPv4(info.address)) continue;
      const mac = info.mac.toLowerCase();
      // All-zero MACs belong to interfaces without hardware (tunnels, some bridges).
      if (mac === '00:00:00:00:00:00') continue;
      found.push({ name, mac, address: info.address, broadcast: broadcastOf(info.address, info.netmask) });
    }
  }
  return found;
}

/** The distinct MACs of the LAN interfaces, as the card carries them. */
export function lanMacs(interfaces: readonly LanInterface[], max: number): string[] {
  return [...new Set(interfaces.map((i) => i.mac))].slice(0, max);
}
