import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TOKEN } from '../src/index.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts');
let child: ChildProcess | undefined;

afterEach(async () => {
  if (child !== undefined && child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
  child = undefined;
});

/** Starts the CLI from source and resolves with its URL once it listens. */
async function startCli(args: string[]): Promise<string> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let output = '';
  return new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (data: Buffer) => {
      output += data.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match !== null) resolve(match[1]!);
    });
    proc.stderr!.on('data', (data: Buffer) => {
      output += data.toString();
    });
    proc.once('exit', (code) => reject(new Error(`CLI exited with ${code}: ${output}`)));
  });
}

describe('ha-sim CLI', () => {
  it('should serve the API on the port asked, with the tokens given', async () => {
    const url = await startCli(['--port', '0', '--token', 'cli-token']);
    const ok = await fetch(`${url}/api/`, { headers: { Authorization: 'Bearer cli-token' } });
    expect(await ok.json()).toEqual({ message: 'API running.' });
    const refused = await fetch(`${url}/api/`, { headers: { Authorization: `Bearer ${DEFAULT_TOKEN}` } });
    expect(refused.status).toBe(401);
  });

  it('should exit 2 with the usage on a bad flag', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', CLI, '--port', 'eighty'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (data: Buffer) => {
      stderr += data.toString();
    });
    const [code] = await once(proc, 'exit');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--port needs a non-negative number/);
  });
});
