/**
 * A sleeping host's network card, as the harness plays it: a UDP socket on port 9 inside the
 * host's namespace that resolves with the MAC of the first Wake-on-LAN magic packet it hears
 * (6×0xFF then the MAC 16 times), bounded by a timeout. The host's node is not running meanwhile.
 */
import { spawn } from 'node:child_process';
import { LanTimeoutError } from './errors.js';

/** The port magic packets go to (discard), as the node sends them. */
export const WAKE_PORT = 9;

/** A listener in a namespace. */
export interface MagicListener {
  /** Resolves with the MAC (lowercase, colons) of the first magic packet. */
  readonly packet: Promise<string>;
  /** Packets heard so far (0 or 1: the listener ends at the first). */
  heard(): number;
  /** Stops listening; idempotent. */
  close(): void;
}

// Runs inside the namespace as `node -e`: CommonJS, no imports from the repo.
const SCRIPT = `
const socket = require('node:dgram').createSocket('udp4');
socket.on('message', (m) => {
  if (m.length < 102) return;
  for (let i = 0; i < 6; i++) if (m[i] !== 0xff) return;
  for (let i = 1; i < 16; i++) for (let j = 0; j < 6; j++) if (m[6 + i * 6 + j] !== m[6 + j]) return;
  process.stdout.write('mac ' + [...m.subarray(6, 12)].map((b) => b.toString(16).padStart(2, '0')).join(':') + '\\n');
  process.exit(0);
});
socket.bind(${WAKE_PORT}, '0.0.0.0', () => process.stdout.write('listening\\n'));
setTimeout(() => process.exit(3), Number(process.argv[1]));
`;

/** Starts a listener in `netns`; resolves once its socket is bound. */
export async function listenForMagicPacket(netns: string, timeoutMs: number): Promise<MagicListener> {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', SCRIPT, String(timeoutMs)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let heard = 0;
  let onLine: (line: string) => void = () => {};
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (data: string) => {
    output += data;
    let newline = output.indexOf('\n');
    while (newline >= 0) {
      onLine(output.slice(0, newline));
      output = output.slice(newline + 1);
      newline = output.indexOf('\n');
    }
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (data: string) => {
    stderr += data;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let ready: () => void = () => {};
  let gotMac: (mac: string) => void = () => {};
  // The first line says the socket is bound; before it a packet could be missed.
  const listening = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const packet = new Promise<string>((resolve) => {
    gotMac = resolve;
  });
  onLine = (line) => {
    if (line === 'listening') ready();
    else if (line.startsWith('mac ')) {
      heard += 1;
      gotMac(line.slice(4));
    }
  };
  const ended = exited.then((code): never => {
    throw new LanTimeoutError(
      code === 3 ? `no magic packet within ${timeoutMs} ms` : `the listener exited (${code}): ${stderr}`,
    );
  });
  ended.catch(() => {});
  const first = Promise.race([packet, ended]);
  first.catch(() => {});
  await Promise.race([listening, ended]);
  return {
    packet: first,
    heard: () => heard,
    close: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
