/**
 * The joiner's side of the pairing exchange: prove the code to the node that made it and receive
 * the home's mesh key and that node's addresses.
 */
import { connect } from 'node:net';
import { MeshInputError, MeshUpstreamError } from './errors.js';
import type { InvitationCode } from './join-code.js';
import {
  createEphemeral,
  fromB64,
  offer,
  openWelcome,
  PAIRING_EXCHANGE_TIMEOUT_MS,
  PairingProtocolError,
  type PairingRefusal,
  sessionKeys,
  type Welcome,
} from './pairing-protocol.js';
import { PairingSocket } from './pairing-socket.js';

const REASONS: Record<PairingRefusal, string> = {
  'no-invitation':
    'the inviting node has no open invitation: this code has expired or was used; ask for a fresh one',
  'wrong-code': 'the inviting node did not accept this code; check it, or ask for a fresh one',
  expired: 'this code has expired (codes last 10 minutes); ask for a fresh one',
  used: 'this code was already used (each code joins one machine); ask for a fresh one',
  burnt: 'this code was cancelled after too many wrong attempts; ask for a fresh one',
  'bad-frame':
    'the inviting node did not understand this machine; are both running the same version of Allerac?',
  busy: 'the inviting node is busy pairing other machines; try again in a few seconds',
};

/** The inviter refused the code; `reason` says why and the message what to do. */
export class InvitationRefusedError extends MeshInputError {
  override name = 'InvitationRefusedError';
  constructor(readonly reason: PairingRefusal) {
    super(REASONS[reason], { code: `invitation_${reason.replace('-', '_')}`, param: 'code' });
  }
}

/** Nothing answered at the address the code names. */
export class InviterUnreachableError extends MeshUpstreamError {
  override name = 'InviterUnreachableError';
}

/** Runs the exchange with the node at the code's address; resolves with its welcome. */
export async function redeemInvitation(
  code: InvitationCode,
  options: { timeoutMs?: number } = {},
): Promise<Welcome> {
  const deadline = Date.now() + (options.timeoutMs ?? PAIRING_EXCHANGE_TIMEOUT_MS);
  const where = `${code.host}:${code.port}`;
  const socket = await new Promise<ReturnType<typeof connect>>((resolve, reject) => {
    const s = connect({ host: code.host, port: code.port });
    const timer = setTimeout(
      () => {
        s.destroy();
        reject(new InviterUnreachableError(`the inviting node at ${where} did not answer in time`));
      },
      Math.max(0, deadline - Date.now()),
    );
    s.once('connect', () => {
      clearTimeout(timer);
      resolve(s);
    });
    s.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new InviterUnreachableError(
          `could not reach the inviting node at ${where} (${error.code ?? error.message}): it stops listening once its codes have expired or been used, so ask for a fresh code; check too that both machines are on the same network`,
        ),
      );
    });
  });
  const io = new PairingSocket(socket, deadline);
  try {
    const own = createEphemeral();
    io.write({ type: 'pair-hello', version: 1, ...offer(own) });
    const challenge = await io.read();
    if (challenge.type === 'pair-refused') throw new InvitationRefusedError(challenge.reason);
    if (challenge.type !== 'pair-challenge') throw new PairingProtocolError('expected pair-challenge');
    const theirKey = fromB64(challenge.key, 32, 'key');
    const keys = sessionKeys(
      own,
      theirKey,
      { nonce: own.nonce, key: own.publicKey },
      { nonce: fromB64(challenge.nonce, 16, 'nonce'), key: theirKey },
    );
    const { proof, encKey } = keys.forSecret(code.secret);
    io.write({ type: 'pair-proof', mac: proof.toString('base64') });
    const answer = await io.read();
    if (answer.type === 'pair-refused') throw new InvitationRefusedError(answer.reason);
    if (answer.type !== 'pair-welcome') throw new PairingProtocolError('expected pair-welcome');
    return openWelcome(encKey, keys.transcript, answer);
  } finally {
    io.destroy();
  }
}
