/**
 * Tells a node that missed a rotation (it was away) that its key is retired. A member cannot reach
 * it on the current key, so it dials once with the retired key, from a short-lived libp2p host
 * with this node's own identity (so the other side authenticates who speaks), sends `key-notice`
 * with the signed rotation but not the new key, and hangs up. The stale node then stops talking to
 * anyone on the old key, so a removed node that still holds that key cannot come back through it.
 */
import { FramedStream, KEY_ACK_TIMEOUT_MS, KEY_PROTOCOL, type KeyNoticeMessage } from '@allerac/protocol';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import type { Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import type { Logger } from 'pino';
import { formatSwarmKey } from './mesh-key.js';
import { loadRetiredKeys, type RetiredKey } from './mesh-state.js';

/**
 * One notice attempt per peer per this long. The dial tick fails for such a peer at the dial
 * back-off's pace (at most 15 s); the same pace tells a node that comes back soon after it does.
 */
const NOTICE_INTERVAL_MS = 15_000;
/** Only the newest retired keys are tried; each try is a dial, and a node away longer is rare. */
const NOTICE_KEYS = 3;

/** Options of the notifier. */
export interface StaleNotifierInit {
  /** This node's identity. */
  privateKey: PrivateKey;
  /** Data dir holding `retired-keys.json`. */
  dataDir: string;
  /** Structured logger. */
  logger: Logger;
}

/** Sends out-of-date notices to peers still on a retired key. */
export class StaleNotifier {
  private readonly last = new Map<string, number>();
  private readonly busy = new Set<string>();

  constructor(private readonly init: StaleNotifierInit) {}

  /**
   * Tries the newest retired keys against `peer` at `addresses`, at most once per interval.
   * Resolves true when a notice was delivered; never throws.
   */
  async notify(peer: string, addresses: Multiaddr[]): Promise<boolean> {
    const now = Date.now();
    if (
      addresses.length === 0 ||
      this.busy.has(peer) ||
      now - (this.last.get(peer) ?? 0) < NOTICE_INTERVAL_MS
    )
      return false;
    this.busy.add(peer);
    this.last.set(peer, now);
    try {
      for (const retired of (await loadRetiredKeys(this.init.dataDir)).slice(0, NOTICE_KEYS)) {
        if (await this.send(retired, peer, addresses)) {
          this.init.logger.info(
            { event: 'stale-peer-notified', peer, epoch: retired.retiredBy.rotation.epoch },
            'told a peer on a retired mesh key that it is out of date',
          );
          return true;
        }
      }
      return false;
    } finally {
      this.busy.delete(peer);
    }
  }

  private async send(retired: RetiredKey, peer: string, addresses: Multiaddr[]): Promise<boolean> {
    const node = await createLibp2p({
      privateKey: this.init.privateKey,
      addresses: { listen: [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionProtector: preSharedKey({ psk: formatSwarmKey(retired.key) }),
      connectionGater: { denyDialMultiaddr: () => false },
    });
    try {
      const id = peerIdFromString(peer);
      await node.peerStore.merge(id, { multiaddrs: addresses });
      const stream = await node.dialProtocol(id, KEY_PROTOCOL, {
        signal: AbortSignal.timeout(KEY_ACK_TIMEOUT_MS),
      });
      const framed = new FramedStream(stream, {
        protocol: KEY_PROTOCOL,
        firstFrameTimeoutMs: KEY_ACK_TIMEOUT_MS,
      });
      const notice: KeyNoticeMessage = { type: 'key-notice', ...retired.retiredBy };
      await framed.write(notice, { signal: AbortSignal.timeout(KEY_ACK_TIMEOUT_MS) });
      const ack = await framed.read({ signal: AbortSignal.timeout(KEY_ACK_TIMEOUT_MS) });
      await framed.close({ signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
      if (ack?.type === 'key-ack' && ack.refused !== undefined) {
        this.init.logger.info(
          { event: 'stale-peer-refused-notice', peer, reason: ack.refused },
          'a peer on a retired key refused the out-of-date notice',
        );
      }
      return ack?.type === 'key-ack' && ack.refused === undefined;
    } catch (err) {
      this.init.logger.debug(
        { event: 'stale-notice-failed', peer, err: String(err) },
        'no out-of-date notice with this retired key',
      );
      return false;
    } finally {
      await Promise.resolve(node.stop()).catch(() => undefined);
    }
  }
}
