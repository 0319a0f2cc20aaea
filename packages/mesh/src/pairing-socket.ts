/**
 * Frames of the pairing exchange over one TCP socket: the length is checked before anything is
 * buffered, and every read ends at the exchange's deadline, so a peer can hold neither memory nor
 * time.
 */
import type { Socket } from 'node:net';
import {
  encodeFrame,
  MAX_PAIRING_FRAME_BYTES,
  type PairingMessage,
  PairingProtocolError,
  parseMessage,
} from './pairing-protocol.js';

/** Reads and writes pairing frames on a socket until `deadline` (ms since the epoch). */
export class PairingSocket {
  private buffered = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly socket: Socket,
    deadline: number,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      // One frame and its header at most: a peer never gets to send ahead.
      if (this.buffered.length > MAX_PAIRING_FRAME_BYTES + 2)
        this.fail(new PairingProtocolError('pairing frame too large'));
      this.wake();
    });
    socket.on('error', (error) =>
      this.fail(new PairingProtocolError(`pairing connection failed: ${error.message}`)),
    );
    socket.on('close', () =>
      this.fail(new PairingProtocolError('the other side closed the pairing connection')),
    );
    this.timer = setTimeout(
      () => this.fail(new PairingProtocolError('the pairing exchange took too long')),
      Math.max(0, deadline - Date.now()),
    );
  }

  /** The next frame, validated; throws PairingProtocolError on a bad frame, a close or the deadline. */
  async read(): Promise<PairingMessage> {
    for (;;) {
      // A whole frame is read even after the close that followed it (the inviter's last frame).
      if (this.buffered.length >= 2) {
        const length = this.buffered.readUInt16BE(0);
        if (length > MAX_PAIRING_FRAME_BYTES) {
          const error = new PairingProtocolError('pairing frame too large');
          this.fail(error);
          throw error;
        }
        if (this.buffered.length >= 2 + length) {
          const body = this.buffered.subarray(2, 2 + length);
          this.buffered = this.buffered.subarray(2 + length);
          return parseMessage(body);
        }
      }
      if (this.failure !== undefined) throw this.failure;
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
      });
    }
  }

  /** Sends one frame. */
  write(message: PairingMessage): void {
    if (!this.socket.destroyed) this.socket.write(encodeFrame(message));
  }

  /** Sends a last frame, then closes. */
  async end(message?: PairingMessage): Promise<void> {
    clearTimeout(this.timer);
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      if (message === undefined) this.socket.end(() => resolve());
      else this.socket.end(encodeFrame(message), () => resolve());
      this.socket.once('close', () => resolve());
    });
    this.socket.destroy();
  }

  /** Drops the connection at once. */
  destroy(): void {
    clearTimeout(this.timer);
    this.socket.destroy();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    clearTimeout(this.timer);
    this.socket.destroy();
    this.wake();
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}
