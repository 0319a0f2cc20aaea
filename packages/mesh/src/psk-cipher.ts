/**
 * A fix for the pre-shared key's cipher. @libp2p/pnet encrypts every byte of a connection with
 * `xsalsa20`, whose WebAssembly build shares one memory among all ciphers but lets each keep its
 * own view of it. When one cipher grows the memory, every other cipher's view goes stale (length
 * 0), so its next update grows the memory again by its whole input, which makes the first one's view
 * stale in turn: two busy directions of a connection ping-pong the memory up to its limit in a few
 * MiB of traffic, and every connection of the process then dies with "Maximum memory size
 * exceeded" (a model copy of more than ~100 MiB). The fix keeps every cipher on the current view.
 */
import { createRequire } from 'node:module';

interface WasmXor {
  _memory: Uint8Array;
  update(input: Uint8Array, output: Uint8Array): void;
  realloc(size: number): void;
  finalize(): void;
}

interface XSalsa20 {
  _xor: unknown;
  finalize(): void;
}

const PATCHED = Symbol.for('allerac.xsalsa20-memory-fix');

/** Patches the `xsalsa20` that @libp2p/pnet loads; idempotent; a no-op on its pure-JS build. */
export function fixPskCipherMemory(): void {
  const fromPnet = createRequire(import.meta.resolve('@libp2p/pnet'));
  const xsalsa20 = fromPnet('xsalsa20') as (nonce: Uint8Array, key: Uint8Array) => XSalsa20;
  const probe = xsalsa20(new Uint8Array(24), new Uint8Array(32));
  const proto = Object.getPrototypeOf(probe._xor) as WasmXor & { [PATCHED]?: true };
  probe.finalize();
  if (typeof proto.realloc !== 'function' || proto[PATCHED] === true) return;
  const { realloc, update, finalize } = proto;
  let current: Uint8Array | undefined;
  const refresh = (xor: WasmXor) => {
    if (current !== undefined && xor._memory.buffer !== current.buffer) xor._memory = current;
  };
  proto.realloc = function (this: WasmXor, size: number) {
    refresh(this);
    realloc.call(this, size);
    current = this._memory;
  };
  proto.update = function (this: WasmXor, input: Uint8Array, output: Uint8Array) {
    refresh(this);
    update.call(this, input, output);
  };
  proto.finalize = function (this: WasmXor) {
    refresh(this);
    finalize.call(this);
  };
  proto[PATCHED] = true;
}
