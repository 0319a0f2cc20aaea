import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The one-time setup code of an unclaimed node lives in this file of the data dir (mode 0600). */
export const SETUP_CODE_FILE = 'setup-code';

/** Letters that cannot be misread for one another when typed from a terminal. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A code like `K7QX-M3PD-2RWA-9HTF`: 80 bits, four groups that are easy to type. */
function newCode(): string {
  const bytes = randomBytes(16);
  const letters = [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('');
  return letters.match(/.{4}/g)!.join('-');
}

const normalise = (code: string) => code.trim().toUpperCase().replace(/[\s-]/g, '');

/**
 * The code that lets someone claim a fresh node from another machine, like Jupyter's token: it
 * is printed in the terminal where the node started and kept in the data dir, so only a person
 * with access to that machine can create the first admin from the network. A caller on the
 * machine itself needs no code.
 */
export class SetupCode {
  readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, SETUP_CODE_FILE);
  }

  /** The current code, created on first use. */
  ensure(): string {
    if (existsSync(this.file)) {
      const stored = readFileSync(this.file, 'utf8').trim();
      if (stored !== '') return stored;
    }
    const code = newCode();
    writeFileSync(this.file, `${code}\n`, { mode: 0o600 });
    return code;
  }

  /** Whether a code a client sent is the current one (compared in constant time). */
  matches(sent: string): boolean {
    if (!existsSync(this.file)) return false;
    const expected = Buffer.from(normalise(readFileSync(this.file, 'utf8')));
    const given = Buffer.from(normalise(sent));
    return expected.length > 0 && expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** Forgets the code once the node is claimed: it is good for one claim only. */
  consume(): void {
    rmSync(this.file, { force: true });
  }
}
