import { Ollama } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { expectedAnswer, type OllamaSim, PROFILES, startOllamaSim } from '../src/index.js';
import { post, readNdjson, waitFor } from './helpers.js';

const messages = [{ role: 'user', content: 'fault test' }];
const chatBody = { model: 'llama3.2:3b', messages, options: { num_predict: 30 } };

describe('fault injection', () => {
  const sims: OllamaSim[] = [];
  const start = async (...args: Parameters<typeof startOllamaSim>) => {
    const sim = await startOllamaSim(...args);
    sims.push(sim);
    return sim;
  };
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((sim) => sim.close()));
  });

  it('should fail the next N inference requests with the chosen status', async () => {
    const sim = await start({ profile: 'fast', faults: { failNextRequests: 2, errorStatus: 503 } });
    const first = await post(`${sim.url}/api/chat`, chatBody);
    expect(first.status).toBe(503);
    expect(((await first.json()) as { error: string }).error).toMatch(/server busy/);
    expect((await post(`${sim.url}/api/chat`, chatBody)).status).toBe(503);
    expect((await post(`${sim.url}/api/chat`, { ...chatBody, stream: false })).status).toBe(200);
  });

  it('should fail about errorRate of requests, set at runtime over /_sim/faults', async () => {
    const sim = await start({ profile: 'fast' });
    const set = await post(`${sim.url}/_sim/faults`, { errorRate: 0.5 });
    expect(await set.json()).toEqual({ errorRate: 0.5 });
    let failures = 0;
    for (let i = 0; i < 40; i++) {
      const response = await post(`${sim.url}/api/embed`, { model: 'all-minilm', input: 'x' });
      if (response.status === 500) {
        failures++;
        expect(await response.json()).toHaveProperty('error');
      } else await response.arrayBuffer();
    }
    expect(failures).toBeGreaterThan(5);
    expect(failures).toBeLessThan(35);
    sim.setFaults({});
    expect((await post(`${sim.url}/api/embed`, { model: 'all-minilm', input: 'x' })).status).toBe(200);
  });

  it('should reject a nonsensical fault plan', async () => {
    const sim = await start({ profile: 'fast' });
    expect((await post(`${sim.url}/_sim/faults`, { errorRate: 3 })).status).toBe(400);
  });

  it('should stall after N tokens, keep the connection and count the abort as cancelled', async () => {
    const sim = await start({ profile: 'fast', faults: { stallAfterTokens: 5 } });
    const controller = new AbortController();
    const response = await post(`${sim.url}/api/chat`, chatBody, { signal: controller.signal });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (text.split('\n').length - 1 < 5) {
      const { value, done } = await reader.read();
      if (done) throw new Error('stream ended instead of stalling');
      text += decoder.decode(value, { stream: true });
    }
    let more = false;
    const nextRead = reader.read().then(
      () => {
        more = true;
      },
      () => undefined, // the abort below ends the read
    );
    // A twin without the fault streams the same answer to its end. It starts after the stalled
    // stream and runs at the same speed, so once it is done the stalled one would have been too.
    const twin = await start({ profile: 'fast' });
    await readNdjson(await post(`${twin.url}/api/chat`, chatBody));
    expect(twin.stats()).toMatchObject({ completed: 1 });
    expect(twin.stats().tokens).toBeGreaterThan(5);
    expect(sim.stats()).toMatchObject({ tokens: 5, active: 1, completed: 0 });
    expect(more).toBe(false);
    controller.abort();
    await nextRead;
    await waitFor(() => sim.stats().cancelled === 1 && sim.stats().active === 0);
  });

  it('should vanish after exitAfterTokens tokens, so the client sees a broken stream', async () => {
    const sim = await start({ profile: 'fast', faults: { exitAfterTokens: 7 } });
    const ollama = new Ollama({ host: sim.url });
    const pieces: string[] = [];
    await expect(
      (async () => {
        const stream = await ollama.chat({ ...chatBody, stream: true });
        for await (const part of stream) pieces.push(part.message.content);
      })(),
    ).rejects.toThrow();
    expect(pieces).toHaveLength(7);
    expect(pieces.join('')).toBe(
      expectedAnswer('llama3.2:3b', messages, 30).split(' ').slice(0, 7).join(' '),
    );
    await expect(fetch(`${sim.url}/api/version`)).rejects.toThrow();
    await sim.close();
  });

  it('should count a client that disconnects mid-generation as cancelled and free its slot', async () => {
    const sim = await start({
      profile: {
        ...PROFILES.gpu!,
        tokensPerSecond: 20,
        referenceParamsB: 3.2,
        ttftMs: 5,
        loadMsPerGB: 0,
        parallelSlots: 1,
      },
    });
    const controller = new AbortController();
    const response = await post(`${sim.url}/api/chat`, chatBody, { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    expect(sim.stats().active).toBe(1);
    controller.abort();
    await waitFor(() => sim.stats().cancelled === 1 && sim.stats().active === 0);
    const tokensAtAbort = sim.stats().tokens;
    // The next answer spans ten token intervals on the one slot: an aborted generation still
    // running would add its own tokens meanwhile.
    const next = await post(`${sim.url}/api/chat`, {
      ...chatBody,
      options: { num_predict: 10 },
      stream: false,
    });
    expect(next.status).toBe(200);
    expect(((await next.json()) as { eval_count: number }).eval_count).toBe(10);
    expect(sim.stats().tokens).toBe(tokensAtAbort + 10);
    expect(sim.stats().completed).toBe(1);
  });

  it('should close idempotently while streams are open', async () => {
    const sim = await start({ profile: 'cpu' });
    const pending = post(`${sim.url}/api/chat`, chatBody).then(
      (r) => r.text(),
      () => 'closed',
    );
    await waitFor(() => sim.stats().active === 1);
    await Promise.all([sim.close(), sim.close()]);
    await sim.close();
    await pending;
  });
});
