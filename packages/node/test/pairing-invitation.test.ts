import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import {
  INVITATION_TTL_MS,
  InvitationRefusedError,
  InviterUnreachableError,
  MAX_PAIRING_FRAME_BYTES,
  PairingProtocolError,
  PairingService,
  parseInvitationCode,
  redeemInvitation,
  type Welcome,
} from '@allerac/mesh';
import { Value } from '@sinclair/typebox/value';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { issueAdminToken } from '../src/auth/api-tokens.js';
import { PairingInvitation, PairingJoined } from '../src/contract/management.js';
import { freePort } from './helpers/node-process.js';
import { startTestNode, type TestNode, waitFor } from './helpers/test-node.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const WELCOME: Welcome = {
  meshKey: Buffer.alloc(32, 7).toString('base64'),
  peerId: '12D3KooWTestInviter',
  addresses: ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWTestInviter'],
  name: 'alice',
};

describe('pairing exchange', () => {
  let now = Date.now();
  const services: PairingService[] = [];
  const sockets: Socket[] = [];
  const service = (options: { p2pPort?: number; exchangeTimeoutMs?: number } = {}) => {
    const created = new PairingService(
      {
        listenHost: '127.0.0.1',
        p2pPort: options.p2pPort ?? 0,
        exchangeTimeoutMs: options.exchangeTimeoutMs ?? 2_000,
      },
      { welcome: async () => WELCOME, logger, now: () => now },
    );
    services.push(created);
    return created;
  };
  const wrongSecret = (code: string) => {
    const { host, port, secret } = parseInvitationCode(code);
    const wrong = Uint8Array.from(secret);
    wrong[0] = (wrong[0] ?? 0) ^ 0xff;
    return { host, port, secret: wrong };
  };
  /** Opens a raw connection to the pairing port, sends `bytes`, and collects what comes back until close. */
  const raw = (code: string, bytes: Buffer) =>
    new Promise<{ answer: Buffer; ms: number }>((resolve, reject) => {
      const { host, port } = parseInvitationCode(code);
      const started = Date.now();
      const socket = connect({ host, port }, () => socket.write(bytes));
      sockets.push(socket);
      const chunks: Buffer[] = [];
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > 2 * MAX_PAIRING_FRAME_BYTES) reject(new Error('the inviter sent too much'));
        chunks.push(chunk);
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ answer: Buffer.concat(chunks), ms: Date.now() - started }));
    });
  const frame = (value: unknown) => {
    const body = Buffer.from(JSON.stringify(value));
    const head = Buffer.alloc(2);
    head.writeUInt16BE(body.length);
    return Buffer.concat([head, body]);
  };
  const refusal = (answer: Buffer) =>
    JSON.parse(answer.subarray(2).toString()) as { type: string; reason: string };

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    for (const s of services.splice(0)) await s.stop();
    now = Date.now();
  });

  it('should hand the welcome to a joiner holding the code, once', async () => {
    const inviter = service();
    const { code } = await inviter.invite();
    expect(await redeemInvitation(parseInvitationCode(code))).toEqual(WELCOME);
    // The port closes once nothing is open, and the code names that port.
    await expect(redeemInvitation(parseInvitationCode(code))).rejects.toThrow(InviterUnreachableError);
  });

  it('should refuse a used code as used while another invitation keeps the port open', async () => {
    const inviter = service();
    const { code } = await inviter.invite();
    await inviter.invite();
    await redeemInvitation(parseInvitationCode(code));
    const second = redeemInvitation(parseInvitationCode(code));
    await expect(second).rejects.toThrow(InvitationRefusedError);
    await expect(second).rejects.toMatchObject({
      reason: 'used',
      message: expect.stringMatching(/already used/),
    });
  });

  it('should refuse an expired code, and close the port when nothing else is open', async () => {
    const inviter = service();
    const { code, expiresAt } = await inviter.invite();
    expect(expiresAt - now).toBe(INVITATION_TTL_MS);
    now += INVITATION_TTL_MS;
    const late = redeemInvitation(parseInvitationCode(code));
    await expect(late).rejects.toMatchObject({ name: 'InvitationRefusedError', reason: 'no-invitation' });
    // With another invitation open, the expired one is named as such.
    await inviter.invite();
    await expect(redeemInvitation(parseInvitationCode(code))).rejects.toMatchObject({ reason: 'expired' });
  });

  it('should burn the invitation at the third wrong proof', async () => {
    const port = await freePort();
    const inviter = service({ p2pPort: port - 1 });
    const { code } = await inviter.invite();
    expect(parseInvitationCode(code).port).toBe(port);
    const attempts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const error = await redeemInvitation(wrongSecret(code)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvitationRefusedError);
      attempts.push((error as InvitationRefusedError).reason);
    }
    expect(attempts).toEqual(['wrong-code', 'wrong-code', 'burnt']);
    // Reopened on the same port by a new invitation: the right code is now refused as burnt.
    const next = await inviter.invite();
    expect(parseInvitationCode(next.code).port).toBe(port);
    await expect(redeemInvitation(parseInvitationCode(code))).rejects.toMatchObject({ reason: 'burnt' });
    expect(await redeemInvitation(parseInvitationCode(next.code))).toEqual(WELCOME);
  });

  it('should refuse garbage and oversized frames cleanly and fast, without spending a try', async () => {
    const inviter = service();
    const { code } = await inviter.invite();
    const oversized = await raw(code, Buffer.from([0xff, 0xff, 1, 2, 3]));
    expect(oversized.answer.length).toBeLessThanOrEqual(MAX_PAIRING_FRAME_BYTES);
    expect(oversized.ms).toBeLessThan(1_000);
    const garbage = await raw(code, frame({ type: 'pair-hello', version: 1, nonce: 'not base64!', key: 42 }));
    expect(refusal(garbage.answer)).toEqual({ type: 'pair-refused', reason: 'bad-frame' });
    const notJson = await raw(code, Buffer.concat([Buffer.from([0, 5]), Buffer.from('{{{{{')]));
    expect(refusal(notJson.answer)).toEqual({ type: 'pair-refused', reason: 'bad-frame' });
    const tooLong = await raw(code, frame({ type: 'pair-proof', mac: 'A'.repeat(3000) }));
    expect(refusal(tooLong.answer).reason).toBe('bad-frame');
    // Three bad frames are not three wrong proofs: the code still works.
    expect(await redeemInvitation(parseInvitationCode(code))).toEqual(WELCOME);
  });

  it('should drop a joiner that goes silent at the exchange deadline', async () => {
    const inviter = service({ exchangeTimeoutMs: 300 });
    const { code } = await inviter.invite();
    const silent = await raw(code, Buffer.alloc(0));
    expect(silent.ms).toBeGreaterThanOrEqual(250);
    expect(silent.ms).toBeLessThan(3_000);
  });

  it('should refuse, on the joiner, an inviter that sends garbage or a welcome it cannot open', async () => {
    const { createServer } = await import('node:net');
    const fake = createServer((socket) => {
      socket.once('data', () => {
        socket.end(
          frame({
            type: 'pair-challenge',
            nonce: Buffer.alloc(16).toString('base64'),
            key: Buffer.alloc(32, 9).toString('base64'),
          }),
        );
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const address = fake.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const code = { host: '127.0.0.1', port, secret: new Uint8Array(10) };
      await expect(redeemInvitation(code)).rejects.toThrow(PairingProtocolError);
    } finally {
      await new Promise((resolve) => fake.close(resolve));
    }
  });
});

describe('joining a home through an invitation (nodes in process, mDNS off)', () => {
  let alice: TestNode;
  let bob: TestNode;
  let aliceToken: string;
  let bobToken: string;
  const post = (node: TestNode, token: string, path: string, body: unknown) =>
    fetch(`${node.node.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    alice = await startTestNode({ name: 'alice', sim: false });
    bob = await startTestNode({ name: 'bob', sim: false });
    aliceToken = issueAdminToken(alice.dataDir, 'test');
    bobToken = issueAdminToken(bob.dataDir, 'test');
  }, 60_000);
  afterAll(async () => {
    await bob?.teardown();
    await alice?.teardown();
  });

  it('should join bob to alice with a code from alice, and not again with the same code', async () => {
    const invited = await post(alice, aliceToken, '/allerac/v1/pairing/invitations', {});
    expect(invited.status).toBe(201);
    const invitation = (await invited.json()) as PairingInvitation;
    expect(Value.Check(PairingInvitation, invitation)).toBe(true);
    expect(invitation.ttlSeconds).toBeGreaterThan(590);

    const own = await post(alice, aliceToken, '/allerac/v1/pairing/join', { code: invitation.code });
    expect(own.status).toBe(400);
    expect(((await own.json()) as { error: string }).error).toMatch(/this node itself/);

    const joined = await post(bob, bobToken, '/allerac/v1/pairing/join', { code: invitation.code });
    const body = (await joined.json()) as PairingJoined;
    expect(joined.status, JSON.stringify(body)).toBe(200);
    expect(Value.Check(PairingJoined, body)).toBe(true);
    expect(body.inviter).toEqual({ id: alice.node.mesh.mesh.peerId, name: 'alice' });
    expect(readFileSync(bob.node.config.meshKeyFile, 'utf8')).toBe(
      readFileSync(alice.node.config.meshKeyFile, 'utf8'),
    );
    await waitFor(
      () =>
        bob.node.mesh.peers().some((p) => p.name === 'alice' && p.status === 'online') &&
        alice.node.mesh.peers().some((p) => p.name === 'bob' && p.status === 'online'),
      30_000,
      'alice and bob to see each other',
    );

    const again = await post(bob, bobToken, '/allerac/v1/pairing/join', { code: invitation.code });
    expect(again.status).toBeGreaterThanOrEqual(400);
    expect(again.status).toBeLessThan(600);
    expect(again.status).not.toBe(500);
    expect(((await again.json()) as { error: string }).error).toMatch(/fresh code/);
    // The same code kept as ALLERAC_JOIN in a service file comes back at every start: ignored.
    await expect(bob.node.mesh.joinAtStart(invitation.code)).resolves.toBeUndefined();
  }, 60_000);

  it('should refuse an old-style key code and a garbled one with a 400 that says what to do', async () => {
    const legacy = `ALRC-${'0'
      .repeat(58)
      .match(/.{1,5}/g)
      ?.join('-')}`;
    for (const path of ['/allerac/v1/pairing/join', '/allerac/v1/setup/join']) {
      const old = await post(bob, bobToken, path, { code: legacy });
      expect(old.status).toBe(400);
      expect(((await old.json()) as { error: string }).error).toMatch(/old-style.*fresh code/);
      const garbled = await post(bob, bobToken, path, { code: 'ALRC-HELLO' });
      expect(garbled.status).toBe(400);
      const huge = await post(bob, bobToken, path, { code: 'A'.repeat(10_000) });
      expect(huge.status).toBe(400);
    }
  });
});
