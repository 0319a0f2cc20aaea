import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';
import { NotWakeableError, WakeRateLimitedError } from '../src/wake/errors.js';
import { broadcastOf, isLanIPv4, lanInterfaces, lanMacs } from '../src/wake/lan-interfaces.js';
import {
  buildMagicPacket,
  MAGIC_PACKET_BYTES,
  macOfMagicPacket,
  normalizeMac,
} from '../src/wake/magic-packet.js';
import { WakeSender } from '../src/wake/wake-sender.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

describe('magic packet', () => {
  it('should be six 0xFF bytes then the MAC sixteen times', () => {
    const packet = buildMagicPacket('02:42:AC:11:00:0a');
    expect(packet.length).toBe(MAGIC_PACKET_BYTES);
    expect(packet.length).toBe(102);
    expect([...packet.subarray(0, 6)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    for (let i = 0; i < 16; i++) {
      expect([...packet.subarray(6 + i * 6, 12 + i * 6)]).toEqual([0x02, 0x42, 0xac, 0x11, 0x00, 0x0a]);
    }
    expect(macOfMagicPacket(packet)).toBe('02:42:ac:11:00:0a');
  });

  it('should refuse what is not a MAC, and read no MAC from a broken packet', () => {
    expect(() => buildMagicPacket('02:42:ac:11:00')).toThrow(InvalidInputError);
    expect(() => buildMagicPacket('zz:42:ac:11:00:0a')).toThrow(InvalidInputError);
    expect(normalizeMac('02-42-AC-11-00-0A')).toBe('02:42:ac:11:00:0a');
    const broken = buildMagicPacket('02:42:ac:11:00:0a');
    broken[50] = 0;
    expect(macOfMagicPacket(broken)).toBeUndefined();
    expect(macOfMagicPacket(new Uint8Array(101).fill(0xff))).toBeUndefined();
  });
});

describe('LAN interfaces', () => {
  const info = (
    address: string,
    mac: string,
    extra: Partial<{ internal: boolean; netmask: string }> = {},
  ) => ({
    address,
    netmask: extra.netmask ?? '255.255.255.0',
    family: 'IPv4' as const,
    mac,
    internal: extra.internal ?? false,
    cidr: null,
  });

  it('should keep home-LAN IPv4 interfaces and drop loopback, public, virtual and MAC-less ones', () => {
    const found = lanInterfaces({
      lo: [info('127.0.0.1', '00:00:00:00:00:00', { internal: true, netmask: '255.0.0.0' })],
      enp3s0: [info('192.168.1.20', 'AA:BB:CC:DD:EE:01')],
      wlan0: [info('10.0.5.7', 'aa:bb:cc:dd:ee:02', { netmask: '255.255.0.0' })],
      eth0: [info('198.18.0.11', 'aa:bb:cc:dd:ee:03', { netmask: '255.254.0.0' })],
      docker0: [info('172.17.0.1', '02:42:00:00:00:01', { netmask: '255.255.0.0' })],
      'br-1234': [info('172.18.0.1', '02:42:00:00:00:02')],
      tailscale0: [info('100.64.0.1', '00:00:00:00:00:00')],
      wan0: [info('203.0.113.5', 'aa:bb:cc:dd:ee:04')],
      tun0: [info('10.8.0.2', '00:00:00:00:00:00')],
    });
    expect(found).toEqual([
      { name: 'enp3s0', mac: 'aa:bb:cc:dd:ee:01', address: '192.168.1.20', broadcast: '192.168.1.255' },
      { name: 'wlan0', mac: 'aa:bb:cc:dd:ee:02', address: '10.0.5.7', broadcast: '10.0.255.255' },
      { name: 'eth0', mac: 'aa:bb:cc:dd:ee:03', address: '198.18.0.11', broadcast: '198.19.255.255' },
    ]);
    expect(lanMacs([...found, found[0]!], 2)).toEqual(['aa:bb:cc:dd:ee:01', 'aa:bb:cc:dd:ee:02']);
  });

  it('should tell LAN addresses from others and compute broadcasts', () => {
    expect(
      ['10.1.2.3', '172.16.0.1', '172.31.255.1', '192.168.0.1', '169.254.3.4', '198.19.0.1'].map(isLanIPv4),
    ).toEqual([true, true, true, true, true, true]);
    expect(['8.8.8.8', '172.32.0.1', '100.64.0.1', '127.0.0.1', '198.20.0.1', 'x'].map(isLanIPv4)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(broadcastOf('192.168.1.20', '255.255.255.128')).toBe('192.168.1.127');
  });
});

describe('wake sender', () => {
  /** A UDP socket on loopback standing in for the sleeping machine's NIC. */
  async function listener() {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return socket;
  }
  const target = { id: 'peer-gaming', name: 'gaming-pc', macs: ['aa:bb:cc:dd:ee:ff'] };

  it('should send the packet, then refuse a second within a minute, then allow it again', async () => {
    const socket = await listener();
    let clock = 1_000_000;
    const sender = new WakeSender(
      { port: socket.address().port },
      {
        logger,
        now: () => clock,
        interfaces: () => [
          { name: 'lo', mac: '00:00:00:00:00:01', address: '127.0.0.1', broadcast: '127.0.0.1' },
        ],
      },
    );
    try {
      const received = once(socket, 'message');
      const sent = await sender.wake(target);
      expect(sent).toEqual({ macs: ['aa:bb:cc:dd:ee:ff'], broadcasts: ['127.0.0.1'], at: 1_000_000 });
      const [message] = (await received) as [Buffer];
      expect(macOfMagicPacket(message)).toBe('aa:bb:cc:dd:ee:ff');
      expect(sender.recentlySent(target.id)).toBe(1_000_000);

      clock += 59_000;
      const refused = await sender.wake(target).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(WakeRateLimitedError);
      expect((refused as WakeRateLimitedError).retryAfterSeconds).toBe(1);
      // Another peer is not held back by this one's limit.
      await expect(sender.wake({ ...target, id: 'peer-other' })).resolves.toBeDefined();

      clock += 1_000;
      expect(sender.recentlySent(target.id)).toBeUndefined();
      const again = once(socket, 'message');
      await sender.wake(target);
      await again;
    } finally {
      socket.close();
    }
  });

  it('should refuse a peer without a MAC, and a machine without a LAN interface', async () => {
    const none = new WakeSender({}, { logger, interfaces: () => [] });
    await expect(none.wake({ ...target, macs: [] })).rejects.toBeInstanceOf(NotWakeableError);
    await expect(none.wake(target)).rejects.toBeInstanceOf(NotWakeableError);
  });
});
