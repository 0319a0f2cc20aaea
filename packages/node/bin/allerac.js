#!/usr/bin/env node
// The installed command: the compiled CLI lives in dist/, built by `npm install` (prepare).
//
// WebAssembly (the embedded PostgreSQL) runs on V8's baseline compiler only. Its optimising tier
// keeps about 80 MB of compiled code and compiler memory resident for the node's life and spends
// CPU compiling while the node serves; small statements run no slower (docs/benchmarks.md), a
// vector index build about a third slower. V8 reads the flag at start only, so the process
// re-executes itself with it (same pid: execve). `node --no-liftoff-only bin/allerac.js ...`
// keeps every tier.
import process from 'node:process';

const BASELINE_ONLY = '--liftoff-only';
if (typeof process.execve === 'function' && !process.execArgv.some((arg) => arg.includes('liftoff-only'))) {
  process.execve(process.execPath, [
    process.execPath,
    BASELINE_ONLY,
    ...process.execArgv,
    ...process.argv.slice(1),
  ]);
}
await import('../dist/cli.js');
