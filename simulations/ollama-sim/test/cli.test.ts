import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { post } from './helpers.js';

const CLI = join(import.meta.dirname, '..', 'src', 'cli.ts');

/** Starts the CLI from source (no build needed) and resolves with its URL once it listens. */
async function startCli(args: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`CLI did not start: ${output}`)), 20_000);
    child.stdout!.on('data', (data: Buffer) => {
      output += data.toString();
      const match = /ollama-sim listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.stderr!.on('data', (data: Buffer) => {
      output += data.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited with ${code}: ${output}`));
    });
  });
  return { child, url };
}

describe('ollama-sim CLI', () => {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('should start, answer and exit cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ollama-sim-'));
    dirs.push(dir);
    const modelsFile = join(dir, 'models.json');
    writeFileSync(
      modelsFile,
      JSON.stringify([
        {
          name: 'tiny:1b',
          family: 'llama',
          parameterSize: '1.0B',
          quantization: 'Q8_0',
          sizeBytes: 1_300_000_000,
          capabilities: ['completion'],
        },
      ]),
    );
    const { child, url } = await startCli([
      '--profile',
      'fast',
      '--models',
      'llama3.1:8b',
      '--models-file',
      modelsFile,
      '--preload',
      'tiny:1b',
    ]);
    children.push(child);
    const tags = (await (await fetch(`${url}/api/tags`)).json()) as { models: Array<{ name: string }> };
    expect(tags.models.map((m) => m.name).sort()).toEqual(['llama3.1:8b', 'tiny:1b']);
    const ps = (await (await fetch(`${url}/api/ps`)).json()) as { models: Array<{ name: string }> };
    expect(ps.models.map((m) => m.name)).toEqual(['tiny:1b']);
    const reply = await post(`${url}/api/chat`, {
      model: 'tiny:1b',
      messages: [{ role: 'user', content: 'hi' }],
      stream: false,
    });
    expect(reply.status).toBe(200);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('should exit abruptly after --exit-after-tokens tokens', async () => {
    const { child, url } = await startCli(['--profile', 'fast', '--exit-after-tokens', '3']);
    children.push(child);
    const exited = once(child, 'exit');
    const response = await post(`${url}/api/chat`, {
      model: 'llama3.2:3b',
      messages: [{ role: 'user', content: 'hi' }],
      options: { num_predict: 30 },
    });
    // Read what arrives until the connection breaks: exactly three token lines, no final object.
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    for (let i = 0; i < 1000; i++) {
      const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    const lines = text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { done: boolean });
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => line.done === false)).toBe(true);
    const [code] = await exited;
    expect(code).toBe(1);
  });

  it('should print help', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, '--help'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    expect(out).toMatch(/--exit-after-tokens/);
  });
});
