/** Defaults of Wake-on-LAN. */

/** At most one magic packet per peer this often (issue #17): a sleeping machine is not flooded. */
export const WAKE_RATE_LIMIT_MS = 60_000;
/**
 * How long a request waits for a woken machine to join the mesh. Firmware, OS resume and the
 * node's start take 5–40 s on real machines; past this the request is served by an awake node.
 */
export const DEFAULT_WAKE_WAIT_MS = 90_000;
/** How long the user will wait for a better machine, when Settings say nothing (`routing.patienceMs`). */
export const DEFAULT_PATIENCE_MS = 20_000;
/** Peers whose last card is kept on disk; far more machines than a home holds. */
export const MAX_REMEMBERED_PEERS = 64;
/** File of the remembered cards under the data dir. */
export const KNOWN_PEERS_FILE = 'known-peers.json';
