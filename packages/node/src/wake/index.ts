/**
 * Wake-on-LAN for the node: this machine's wake fields in its card, the remembered cards of paired
 * peers, magic packets, and the gateway wrapper that wakes a sleeping peer when it is the best
 * place for a request. `createWake` wires them for the daemon; the routes are in wake-api.ts.
 *
 * @example
 * const wake = await createWake({ dataDir, settings, mesh, logger });
 * const gateway = wake.gatewayFor(meshGateway);
 */
import type { NodeCard } from '@allerac/protocol';
import type { Logger } from 'pino';
import { readSetting } from '../store/settings-keys.js';
import type { SettingsRepository } from '../store/settings-repository.js';
import { KnownPeers } from './known-peers.js';
import { LocalWakeCard } from './local-wake-card.js';
import { type PeerPresence, SleepingPeers } from './sleeping-peers.js';
import { WakeSender } from './wake-sender.js';
import { type ExplainingGateway, WakingGateway } from './waking-gateway.js';

export { LocalWakeCard } from './local-wake-card.js';
export { SleepingPeers } from './sleeping-peers.js';
export { type ExplainingGateway, WakingGateway } from './waking-gateway.js';

/** The mesh as the wake modules need it: online peers, their events, card re-publication. */
export interface WakeMesh {
  peers(): Array<{ id: string; status: string }>;
  addEventListener(
    type: 'peer:join' | 'peer:update',
    listener: (evt: CustomEvent<{ card: NodeCard }>) => void,
  ): void;
  removeEventListener(
    type: 'peer:join' | 'peer:update',
    listener: (evt: CustomEvent<{ card: NodeCard }>) => void,
  ): void;
  cardChanged(): void;
}

/** Options of the node's wake wiring. */
export interface WakeInit {
  dataDir: string;
  settings: SettingsRepository;
  mesh: WakeMesh;
  logger: Logger;
  /** UDP port of magic packets; 9 unless a test listens elsewhere. */
  port?: number;
  /** How long a request waits for a woken peer, ms. */
  wakeWaitMs?: number;
}

/** The node's wake parts, wired. */
export interface Wake {
  localCard: LocalWakeCard;
  sleeping: SleepingPeers;
  known: KnownPeers;
  /** Wraps the gateway so that sleeping peers are woken when best. */
  gatewayFor(inner: ExplainingGateway): WakingGateway;
  /** Starts remembering peers' cards; idempotent. */
  start(): void;
  /** Stops and waits for the last write; idempotent. */
  stop(): Promise<void>;
}

/** Reads the stored flags and known peers, and wires the wake parts over the mesh runtime. */
export async function createWake(init: WakeInit): Promise<Wake> {
  const logger = init.logger.child({ component: 'wake' });
  const localCard = new LocalWakeCard({ settings: init.settings, changed: () => init.mesh.cardChanged() });
  await localCard.load();
  const known = new KnownPeers({ dataDir: init.dataDir }, { logger });
  await known.load();
  const presence: PeerPresence = {
    onlineIds: () =>
      new Set(
        init.mesh
          .peers()
          .filter((p) => p.status === 'online')
          .map((p) => p.id),
      ),
    onCard: (listener) => {
      const join = (evt: CustomEvent<{ card: NodeCard }>) => listener('join', evt.detail.card);
      const update = (evt: CustomEvent<{ card: NodeCard }>) => listener('update', evt.detail.card);
      init.mesh.addEventListener('peer:join', join);
      init.mesh.addEventListener('peer:update', update);
      return () => {
        init.mesh.removeEventListener('peer:join', join);
        init.mesh.removeEventListener('peer:update', update);
      };
    },
  };
  const sender = new WakeSender(init.port !== undefined ? { port: init.port } : {}, { logger });
  const sleeping = new SleepingPeers({ known, presence, sender, logger });
  return {
    localCard,
    sleeping,
    known,
    gatewayFor: (inner) =>
      new WakingGateway(
        {
          wakeEnabled: () => readSetting(init.settings, 'wake.enabled'),
          patienceMs: () => readSetting(init.settings, 'routing.patienceMs'),
          ...(init.wakeWaitMs !== undefined ? { wakeWaitMs: init.wakeWaitMs } : {}),
        },
        { inner, sleeping, logger },
      ),
    start: () => sleeping.start(),
    stop: async () => {
      sleeping.stop();
      await known.flush();
    },
  };
}
