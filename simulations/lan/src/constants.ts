import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every namespace and link the harness makes starts with this, so leftovers can be found and removed. */
export const PREFIX = 'alr-';
/** The home's switch: a bridge in the root namespace. */
export const BRIDGE = `${PREFIX}br0`;
/** The bridge's address; the root namespace reaches every host through it. */
export const BRIDGE_ADDRESS = '198.18.0.1';
/** 198.18.0.0/15 is set aside for benchmarking networks (RFC 2544); the harness uses its first /16. */
export const PREFIX_LENGTH = 16;
/** The first host gets 198.18.0.10, the next .11, and so on. */
export const FIRST_HOST_OCTET = 10;
/** At most 200 hosts, so addresses stay in one /24 and names stay short. */
export const MAX_HOSTS = 200;
/** The ports every host uses: each namespace has its own port space. */
export const HTTP_PORT = 8080;
export const P2P_PORT = 4001;
export const OLLAMA_PORT = 11434;

const repoRoot = join(import.meta.dirname, '..', '..', '..');
/** The built node CLI (`npx tsc -b` makes it). */
export const NODE_CLI = join(repoRoot, 'packages', 'node', 'dist', 'cli.js');
/** The built ollama-sim CLI. */
export const SIM_CLI = join(repoRoot, 'simulations', 'ollama-sim', 'dist', 'cli.js');
/** Data dirs, logs, the mesh key and the pidfile of the running LAN. One LAN per machine at a time. */
export const RUN_DIR = join(tmpdir(), 'allerac-lan');
/** Pids of every process the harness started; the first line is the harness's own pid. */
export const PIDFILE = join(RUN_DIR, 'pids');
