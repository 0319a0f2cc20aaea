import { Ollama } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { expectedAnswer, type OllamaSim, startOllamaSim } from '../src/index.js';
import { RequestLog } from '../src/request-log.js';
import { post } from './helpers.js';

describe('request log', () => {
  let sim: OllamaSim | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('should record each API request with its body exactly as sent, and answer as without it', async () => {
    sim = await startOllamaSim({ profile: 'fast', recordRequests: true });
    const messages = [{ role: 'user', content: 'what did you receive?' }];
    const reply = await new Ollama({ host: sim.url }).chat({ model: 'llama3.2:3b', messages, stream: false });
    expect(reply.message.content).toBe(expectedAnswer('llama3.2:3b', messages));
    const raw = '{"model": "llama3.2:3b", "prompt": "spacing kept"}';
    await (await post(`${sim.url}/api/generate?ignored=1`, raw)).text();
    await fetch(`${sim.url}/api/tags`);
    await fetch(`${sim.url}/_sim/stats`);
    const log = sim.requests();
    expect(log.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/chat',
      'POST /api/generate',
      'GET /api/tags',
    ]);
    expect(JSON.parse(log[0]!.body)).toMatchObject({ model: 'llama3.2:3b', messages });
    expect(log[1]!.body).toBe(raw);
    expect(log[2]!.body).toBe('');
    const viaHttp = (await (await fetch(`${sim.url}/_sim/requests`)).json()) as { requests: unknown[] };
    expect(viaHttp.requests).toEqual(log);
    await (await post(`${sim.url}/_sim/reset`, {})).text();
    expect(sim.requests()).toEqual([]);
  });

  it('should record nothing unless asked to', async () => {
    sim = await startOllamaSim({ profile: 'fast' });
    await fetch(`${sim.url}/api/tags`);
    expect(sim.requests()).toEqual([]);
  });

  it('should keep only the newest requests past its capacity', () => {
    const log = new RequestLog(true, 2);
    for (const path of ['/a', '/b', '/c']) log.record('GET', path, '');
    expect(log.list().map((r) => r.path)).toEqual(['/b', '/c']);
  });
});
