/** A readable table of peers for `allerac peers`. */
import type { PeerView } from './mesh.js';

const GB = 1024 ** 3;

function gb(bytes: number): string {
  return `${(bytes / GB).toFixed(1)}G`;
}

/** Formats peers as an aligned text table, one peer a line, online peers first. */
export function formatPeersTable(peers: readonly PeerView[], now = Date.now()): string {
  if (peers.length === 0) return 'no peers yet';
  const rows = [...peers]
    .sort((a, b) => (a.status === b.status ? a.name.localeCompare(b.name) : a.status === 'online' ? -1 : 1))
    .map((p) => {
      const hw = p.card.hardware;
      const vram = hw.gpus.reduce((sum, g) => sum + g.vramTotal, 0);
      return [
        p.name,
        p.id.length > 16 ? `${p.id.slice(0, 6)}…${p.id.slice(-6)}` : p.id,
        p.status,
        `${Math.max(0, Math.round((now - p.lastSeen) / 1000))}s`,
        p.rttMs === undefined ? '-' : `${Math.round(p.rttMs)}ms`,
        `${hw.cores}c ${gb(hw.ramFree)}/${gb(hw.ramTotal)}${vram > 0 ? ` gpu ${gb(vram)}` : ''}`,
        p.card.backend.state,
        `${p.card.load.activeTasks}/${p.card.load.slots} q${p.card.load.queueDepth}`,
        p.card.models.map((m) => (m.loaded ? `${m.name}*` : m.name)).join(', ') || '-',
      ];
    });
  const header = ['NAME', 'ID', 'STATUS', 'SEEN', 'RTT', 'HARDWARE', 'BACKEND', 'LOAD', 'MODELS (*loaded)'];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
