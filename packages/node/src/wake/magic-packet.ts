/**
 * The Wake-on-LAN magic packet (AMD's "Magic Packet Technology" white paper, 1995): six bytes of
 * 0xFF, then the target's 48-bit MAC sixteen times. Sent as a UDP payload; NICs match it anywhere
 * in a frame, so the port is conventional (9, "discard").
 */
import { InvalidInputError } from '../errors.js';

/** Bytes of a magic packet: 6 of sync, 16 repetitions of a 6-byte MAC. */
export const MAGIC_PACKET_BYTES = 6 + 16 * 6;
/** UDP port magic packets are sent to: discard, the one NIC firmware and tools agree on. */
export const WAKE_PORT = 9;

const MAC_PATTERN = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i;

/** Parses `aa:bb:cc:dd:ee:ff` (or with dashes) into its six bytes; throws InvalidInputError otherwise. */
export function parseMac(mac: string): Uint8Array {
  if (!MAC_PATTERN.test(mac)) throw new InvalidInputError(`not a MAC address: ${JSON.stringify(mac)}`);
  return Uint8Array.from(mac.split(/[:-]/), (pair) => Number.parseInt(pair, 16));
}

/** The canonical spelling a card carries: lowercase, colons. */
export function normalizeMac(mac: string): string {
  return Array.from(parseMac(mac), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Builds the magic packet that wakes the NIC with this MAC. */
export function buildMagicPacket(mac: string): Uint8Array {
  const bytes = parseMac(mac);
  const packet = new Uint8Array(MAGIC_PACKET_BYTES).fill(0xff, 0, 6);
  for (let i = 0; i < 16; i++) packet.set(bytes, 6 + i * 6);
  return packet;
}

/** The MAC a magic packet wakes, or undefined when the bytes are not one. */
export function macOfMagicPacket(packet: Uint8Array): string | undefined {
  if (packet.length < MAGIC_PACKET_BYTES) return undefined;
  for (let i = 0; i < 6; i++) if (packet[i] !== 0xff) return undefined;
  const mac = packet.subarray(6, 12);
  for (let i = 1; i < 16; i++) {
    for (let j = 0; j < 6; j++) if (packet[6 + i * 6 + j] !== mac[j]) return undefined;
  }
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':');
}
