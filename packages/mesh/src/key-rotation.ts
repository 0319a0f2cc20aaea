/**
 * Key rotation as an act of the home (protocol.md §9). Only the admin path calls `issue`; the
 * mesh itself never starts a rotation. A receiver adopts a signed rotation only when it passes
 * `checkKeyRotation` and a majority of its other peers hold the same record, so one peer cannot
 * split a node off the home by sending it a key of its own. Also answers `key-state` (a joined
 * node catching up) and `key-notice` (the home tells a node that it missed a rotation).
 */
import {
  checkKeyNotice,
  checkKeyRotation,
  FramedStream,
  KEY_ACK_TIMEOUT_MS,
  KEY_PROTOCOL,
  KEY_ROTATION_SETTLE_MS,
  type KeyAckMessage,
  type KeyProtocolMessage,
  type KeyRotateMessage,
  KeyRotationRefusedError,
  keyRotationDigest,
  type Message,
  meshKeyId,
  ProtocolError,
  type SignedKeyRotation,
  signKeyRotation,
  UnexpectedMessageError,
  ValidationError,
  verifyKeyRotation,
} from '@allerac/protocol';
import type { PrivateKey, Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import {
  CannotRemoveSelfError,
  KeyRotationBusyError,
  KeyRotationNotCorroboratedError,
  MeshEpochUnknownError,
  MeshKeyOutOfDateError,
} from './mesh-errors.js';
import { generateMeshKey } from './mesh-key.js';
import type { MeshState } from './mesh-state.js';

/** Distinct rotation digests whose holders are remembered at once; more is a peer spamming checks. */
const MAX_CLAIMED_DIGESTS = 64;

/** What the rotation service needs from the mesh host. */
export interface KeyRotationHost {
  /** This node's peer id. */
  readonly self: string;
  /** This node's identity key, which signs the rotations it issues. */
  readonly privateKey: PrivateKey;
  /** Structured logger. */
  readonly log: Logger;
  /** The current mesh state. */
  state(): Readonly<MeshState>;
  /** Current members: connected, online, with a verified card on this key, not blocked. */
  members(): string[];
  /** Opens a key-protocol stream to a connected peer. */
  openStream(peer: string, signal: AbortSignal): Promise<Stream>;
  /** Cuts a misbehaving peer off. */
  misbehave(peer: string, reason: string, err: unknown): void;
  /** Adopts a corroborated rotation: stores it, writes the new key and restarts the transport. */
  commit(signed: SignedKeyRotation, newKey: Uint8Array): Promise<void>;
  /** Records that the home retired this node's key (and maybe removed it) while it was away. */
  markOutOfDate(notice: SignedKeyRotation, notifier: string, removed: boolean): Promise<void>;
  /** Stores the epoch and blocklist learnt from the peers after a join. */
  caughtUp(epoch: number, current: SignedKeyRotation | undefined): Promise<void>;
}

/** Outcome of a rotation this node issued. */
export interface IssuedRotation {
  /** The new epoch. */
  epoch: number;
  /** Peers that took it. */
  acked: string[];
  /** Peers it was sent to that did not take it. */
  missed: string[];
}

interface Pending {
  signed: SignedKeyRotation;
  digest: string;
  newKey: Uint8Array;
  /** The peers whose majority decides: members when it arrived, minus the removed one. */
  electorate: Set<string>;
  /** Peers known to hold this record: the issuer, and peers that said so or asked about it. */
  holders: Set<string>;
  timer?: NodeJS.Timeout;
  settled: boolean;
}

interface Answer {
  ack: KeyAckMessage;
  /** Runs after the ack is sent: a commit restarts the transport, so it must come last. */
  after?: () => void;
}

/** Creates the rotation service of one mesh host. */
export function createKeyRotation(host: KeyRotationHost): KeyRotationService {
  return new KeyRotationService(host);
}

/** The key protocol of one mesh host; `reset()` on every transport restart. */
export class KeyRotationService {
  private pending: Pending | undefined;
  /** Digest → members that told us they hold that record, possibly before we got it ourselves. */
  private readonly claims = new Map<string, Set<string>>();
  /** Catch-up after a join: answer key → members that gave it. */
  private readonly tally = new Map<
    string,
    { peers: Set<string>; epoch: number; current?: SignedKeyRotation }
  >();
  private readonly asked = new Set<string>();

  constructor(private readonly host: KeyRotationHost) {}

  /** Forgets what belonged to the previous transport: a pending rotation, claims, catch-up answers. */
  reset(): void {
    if (this.pending !== undefined) clearTimeout(this.pending.timer);
    this.pending = undefined;
    this.claims.clear();
    this.tally.clear();
    this.asked.clear();
  }

  /**
   * The admin action: removes `removed` by rotating the key across the other members. Resolves
   * once a majority took it and this node adopted it; throws KeyRotationNotCorroboratedError
   * (nothing changed) or one of the precondition errors.
   */
  async issue(removed: string): Promise<IssuedRotation> {
    const { host } = this;
    const state = host.state();
    if (removed === host.self) throw new CannotRemoveSelfError();
    if (state.outOfDate !== undefined) throw new MeshKeyOutOfDateError();
    if (state.epoch === null || state.keyId === undefined) throw new MeshEpochUnknownError();
    if (this.pending !== undefined) throw new KeyRotationBusyError();
    const newKey = generateMeshKey();
    const signed = await signKeyRotation(
      {
        issuer: host.self,
        epoch: state.epoch + 1,
        keyId: meshKeyId(newKey),
        previousKeyId: state.keyId,
        blocked: [...state.blocked.filter((p) => p !== removed), removed],
        issuedAt: Date.now(),
      },
      host.privateKey,
    );
    const digest = keyRotationDigest(signed.rotation);
    const targets = host.members().filter((p) => p !== removed);
    const pending: Pending = {
      signed,
      digest,
      newKey,
      electorate: new Set(targets),
      holders: new Set(),
      settled: true,
    };
    this.pending = pending;
    const message: KeyRotateMessage = {
      type: 'key-rotate',
      ...signed,
      newKey: Buffer.from(newKey).toString('hex'),
    };
    const results = await Promise.allSettled(targets.map((peer) => this.request(peer, message)));
    const acked = targets.filter((_, i) => {
      const r = results[i];
      return r?.status === 'fulfilled' && r.value.holds === digest;
    });
    const missed = targets.filter((p) => !acked.includes(p));
    // The same rule every receiver applies, so the issuer and its peers decide alike.
    const needed = targets.length === 0 ? 0 : Math.floor(targets.length / 2) + 1;
    if (this.pending === pending) this.pending = undefined;
    if (acked.length < needed) {
      host.log.warn(
        { event: 'key-rotation-failed', removed, epoch: signed.rotation.epoch, acked, missed },
        'key rotation not corroborated; the mesh key is unchanged',
      );
      throw new KeyRotationNotCorroboratedError(acked.length, targets.length);
    }
    host.log.info(
      { event: 'mesh-key-rotated', issuer: host.self, removed, epoch: signed.rotation.epoch, acked, missed },
      'mesh key rotated',
    );
    await host.commit(signed, newKey);
    return { epoch: signed.rotation.epoch, acked, missed };
  }

  /** Asks a member, after a join, which rotation introduced the key (until a majority agrees). */
  async catchUp(peer: string): Promise<void> {
    const state = this.host.state();
    if (state.epoch !== null || state.outOfDate !== undefined || this.asked.has(peer)) return;
    this.asked.add(peer);
    let ack: KeyAckMessage;
    try {
      ack = await this.request(peer, { type: 'key-state' });
    } catch (err) {
      this.asked.delete(peer);
      this.host.log.debug(
        { event: 'key-state-failed', peer, err: String(err) },
        'could not ask for key state',
      );
      return;
    }
    let answer: string;
    if (ack.current !== undefined) {
      const ok = await verifyKeyRotation(ack.current).then(
        (r) => r.keyId === state.keyId && r.epoch === ack.epoch,
        () => false,
      );
      if (!ok) return;
      answer = keyRotationDigest(ack.current.rotation);
    } else if (ack.epoch === 0) {
      answer = 'genesis';
    } else {
      return;
    }
    const entry = this.tally.get(answer) ?? {
      peers: new Set<string>(),
      epoch: ack.epoch ?? 0,
      ...(ack.current !== undefined ? { current: ack.current } : {}),
    };
    entry.peers.add(peer);
    this.tally.set(answer, entry);
    const members = this.host.members();
    const agreeing = [...entry.peers].filter((p) => members.includes(p)).length;
    if (agreeing >= Math.floor(members.length / 2) + 1 && this.host.state().epoch === null) {
      this.tally.clear();
      this.host.log.info(
        { event: 'mesh-key-caught-up', epoch: entry.epoch, from: [...entry.peers] },
        'learnt the key epoch from the peers',
      );
      await this.host.caughtUp(entry.epoch, entry.current);
    }
  }

  /** Handler of KEY_PROTOCOL streams. */
  async handle(stream: Stream, peer: string): Promise<void> {
    const framed = new FramedStream(stream, { protocol: KEY_PROTOCOL });
    try {
      const message = await framed.read();
      if (message === undefined) return;
      const { ack, after } = await this.answer(message as KeyProtocolMessage, peer);
      await framed.write(ack);
      await framed.close({ signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
      after?.();
    } catch (err) {
      if (err instanceof ProtocolError) this.host.misbehave(peer, 'key-stream', err);
      framed.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private epochAck(extra: Omit<KeyAckMessage, 'type' | 'epoch'> = {}): KeyAckMessage {
    const epoch = this.host.state().epoch;
    return { type: 'key-ack', ...(epoch !== null ? { epoch } : {}), ...extra };
  }

  private async answer(message: KeyProtocolMessage, peer: string): Promise<Answer> {
    switch (message.type) {
      case 'key-rotate':
        return this.onRotate(message, peer);
      case 'key-check':
        return this.onCheck(message.epoch, message.digest, peer);
      case 'key-state': {
        const current = this.host.state().current;
        return { ack: this.epochAck(current !== undefined ? { current } : {}) };
      }
      case 'key-notice':
        return this.onNotice(message, peer);
      default:
        throw new UnexpectedMessageError(`a key stream does not open with ${message.type}`);
    }
  }

  private refused(err: unknown, peer: string, what: string): Answer {
    if (!(err instanceof KeyRotationRefusedError)) throw err;
    this.host.log.warn(
      { event: 'key-rotation-refused', what, from: peer, reason: err.reason, detail: err.message },
      'key rotation refused',
    );
    return {
      ack: this.epochAck({ refused: err.reason }),
      ...(err.misbehaviour ? { after: () => this.host.misbehave(peer, what, err) } : {}),
    };
  }

  private async onRotate(message: KeyRotateMessage, peer: string): Promise<Answer> {
    const { host } = this;
    const state = host.state();
    if (state.outOfDate !== undefined) return { ack: this.epochAck({ refused: 'out-of-date' }) };
    const rotation = await verifyKeyRotation(message);
    const newKey = Uint8Array.from(Buffer.from(message.newKey, 'hex'));
    if (meshKeyId(newKey) !== rotation.keyId)
      throw new ValidationError('$.newKey', 'is not the key rotation.keyId names');
    let removed: string;
    try {
      if (state.keyId === undefined)
        throw new KeyRotationRefusedError('wrong-key', 'this node has no key id yet');
      const members = host.members();
      removed = checkKeyRotation(rotation, {
        self: host.self,
        keyId: state.keyId,
        epoch: state.epoch,
        blocked: state.blocked,
        sender: peer,
        trusted: (p) => members.includes(p),
        now: Date.now(),
      });
    } catch (err) {
      return this.refused(err, peer, 'key-rotate');
    }
    const digest = keyRotationDigest(rotation);
    const pending = this.pending;
    if (pending !== undefined) {
      if (pending.digest === digest) return { ack: this.epochAck({ holds: digest }) };
      return this.refused(
        new KeyRotationRefusedError('conflict', 'another rotation of this epoch is already pending'),
        peer,
        'key-rotate',
      );
    }
    const electorate = new Set(host.members().filter((p) => !rotation.blocked.includes(p)));
    const holders = new Set([peer, ...(this.claims.get(digest) ?? [])].filter((p) => electorate.has(p)));
    const next: Pending = { signed: message, digest, newKey, electorate, holders, settled: false };
    next.timer = setTimeout(() => this.abandon(next), KEY_ROTATION_SETTLE_MS);
    this.pending = next;
    host.log.info(
      {
        event: 'key-rotation-received',
        issuer: peer,
        epoch: rotation.epoch,
        removed,
        electorate: [...electorate],
      },
      'key rotation received; checking it with the other peers',
    );
    return {
      ack: this.epochAck({ holds: digest }),
      after: () => {
        this.evaluate(next);
        for (const other of electorate) {
          if (other !== peer) void this.check(next, other);
        }
      },
    };
  }

  /** Tells `peer` which record we hold and learns whether it holds the same. */
  private async check(pending: Pending, peer: string): Promise<void> {
    try {
      const ack = await this.request(peer, {
        type: 'key-check',
        epoch: pending.signed.rotation.epoch,
        digest: pending.digest,
      });
      if (ack.holds === pending.digest) {
        pending.holders.add(peer);
        this.evaluate(pending);
      }
    } catch (err) {
      this.host.log.debug({ event: 'key-check-failed', peer, err: String(err) }, 'key check failed');
    }
  }

  private onCheck(epoch: number, digest: string, peer: string): Answer {
    const members = this.host.members();
    if (members.includes(peer)) {
      let claimed = this.claims.get(digest);
      if (claimed === undefined && this.claims.size < MAX_CLAIMED_DIGESTS) {
        claimed = new Set();
        this.claims.set(digest, claimed);
      }
      claimed?.add(peer);
    }
    const pending = this.pending;
    const current = this.host.state().current;
    let holds: string | undefined;
    if (pending !== undefined && pending.signed.rotation.epoch === epoch) holds = pending.digest;
    else if (current !== undefined && current.rotation.epoch === epoch)
      holds = keyRotationDigest(current.rotation);
    const answer: Answer = { ack: this.epochAck(holds !== undefined ? { holds } : {}) };
    if (pending !== undefined && pending.digest === digest && pending.electorate.has(peer)) {
      pending.holders.add(peer);
      answer.after = () => this.evaluate(pending);
    }
    return answer;
  }

  /** Adopts a pending rotation once a majority of its electorate holds it (the issuer counts). */
  private evaluate(pending: Pending): void {
    if (pending.settled || this.pending !== pending) return;
    const issuer = pending.signed.rotation.issuer;
    const others = [...pending.electorate].filter((p) => p !== issuer).length;
    const holding = [...pending.holders].filter((p) => pending.electorate.has(p)).length;
    const needed = others === 0 ? 1 : Math.floor(pending.electorate.size / 2) + 1;
    if (holding < needed) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    this.host.log.info(
      {
        event: 'mesh-key-rotated',
        issuer,
        removed: pending.signed.rotation.blocked.at(-1),
        epoch: pending.signed.rotation.epoch,
        holders: [...pending.holders],
      },
      'adopting the corroborated mesh key',
    );
    this.host.commit(pending.signed, pending.newKey).catch((err: unknown) => {
      this.host.log.error({ event: 'mesh-key-commit-failed', err }, 'could not adopt the new mesh key');
    });
  }

  private abandon(pending: Pending): void {
    if (pending.settled || this.pending !== pending) return;
    pending.settled = true;
    this.pending = undefined;
    this.host.log.warn(
      {
        event: 'key-rotation-abandoned',
        issuer: pending.signed.rotation.issuer,
        epoch: pending.signed.rotation.epoch,
        holders: [...pending.holders],
        electorate: [...pending.electorate],
      },
      'key rotation not corroborated by a majority of the peers; keeping the current key',
    );
  }

  private async onNotice(message: SignedKeyRotation, peer: string): Promise<Answer> {
    const { host } = this;
    const state = host.state();
    if (state.outOfDate !== undefined) return { ack: this.epochAck() };
    const rotation = await verifyKeyRotation(message);
    // A member still sending us cards on this very key cannot also claim that the key is retired.
    if (host.members().includes(peer)) {
      throw new UnexpectedMessageError('a current member sent a key-notice for the key it uses');
    }
    let removed: boolean;
    try {
      if (state.keyId === undefined)
        throw new KeyRotationRefusedError('wrong-key', 'this node has no key id yet');
      removed = checkKeyNotice(rotation, {
        self: host.self,
        keyId: state.keyId,
        epoch: state.epoch,
        blocked: state.blocked,
      }).removed;
    } catch (err) {
      return this.refused(err, peer, 'key-notice');
    }
    return {
      ack: this.epochAck(),
      after: () => {
        host.markOutOfDate(message, peer, removed).catch((err: unknown) => {
          host.log.error({ event: 'mesh-out-of-date-failed', err }, 'could not record the out-of-date key');
        });
      },
    };
  }

  private async request(peer: string, message: Message): Promise<KeyAckMessage> {
    const stream = await this.host.openStream(peer, AbortSignal.timeout(KEY_ACK_TIMEOUT_MS));
    const framed = new FramedStream(stream, {
      protocol: KEY_PROTOCOL,
      firstFrameTimeoutMs: KEY_ACK_TIMEOUT_MS,
    });
    try {
      await framed.write(message, { signal: AbortSignal.timeout(KEY_ACK_TIMEOUT_MS) });
      const ack = await framed.read({ signal: AbortSignal.timeout(KEY_ACK_TIMEOUT_MS) });
      if (ack?.type !== 'key-ack') throw new UnexpectedMessageError('expected key-ack');
      await framed.close({ signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
      return ack;
    } catch (err) {
      framed.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }
}
