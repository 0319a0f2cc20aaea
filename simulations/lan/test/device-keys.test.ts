/**
 * Device keys over a real network: a node in its own namespace listening on 0.0.0.0, and the
 * real `ollama` and `openai` npm clients on another host of the LAN (the root namespace, on the
 * bridge) given nothing but the base URLs the node handed out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lan, lanUnavailableReason, startLan } from '../src/index.js';

const unavailable = lanUnavailableReason();
const MODEL = 'llama3.2:3b';

interface IssuedDevice {
  id: string;
  token: string;
  baseUrls: { ollama: string; openai: string };
  reachableFromLan: boolean;
}

describe.skipIf(unavailable !== undefined)(
  `device keys from another host of the LAN${unavailable ? ` — SKIPPED: ${unavailable}` : ''}`,
  () => {
    let lan: Lan;
    let url: string;
    let admin: string;
    let dataDir: string;

    beforeAll(async () => {
      lan = await startLan([{ name: 'vault', profile: 'fast', models: [MODEL] }], { logLevel: 'debug' });
      url = lan.hosts[0]!.url;
      admin = lan.hosts[0]!.token;
      dataDir = lan.hosts[0]!.dataDir;
    }, 120_000);
    afterAll(async () => lan?.stop());

    const management = (method: string, path: string, body?: unknown) =>
      fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const addDevice = async (name: string): Promise<IssuedDevice> => {
      const response = await management('POST', '/allerac/v1/tokens', { name, device: true });
      expect(response.status).toBe(201);
      return (await response.json()) as IssuedDevice;
    };

    it('should let the real ollama and openai clients chat with the key in the base URL, until it is revoked', async () => {
      const device = await addDevice('living-room');
      // Issued over the LAN, the URLs name the address the LAN reached the node at.
      expect(device.baseUrls.ollama).toBe(`${url}/k/${device.token}`);
      expect(device.reachableFromLan).toBe(true);

      const ollama = new Ollama({ host: device.baseUrls.ollama });
      expect((await ollama.list()).models.map((m) => m.name)).toContain(MODEL);
      let streamed = '';
      for await (const part of await ollama.chat({
        model: MODEL,
        messages: [{ role: 'user', content: 'Is the porch light on?' }],
        stream: true,
      }))
        streamed += part.message.content;
      expect(streamed.length).toBeGreaterThan(0);

      const openai = new OpenAI({ baseURL: device.baseUrls.openai, apiKey: 'not-needed' });
      const completion = await openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Is the porch light on?' }],
      });
      expect(completion.choices[0]?.message.content).toBe(streamed);

      // The LAN host without the key gets nothing: the key is what opened the APIs.
      await expect(new Ollama({ host: url }).list()).rejects.toMatchObject({ status_code: 401 });
      await expect(
        new OpenAI({ baseURL: `${url}/v1`, apiKey: 'not-needed' }).models.list(),
      ).rejects.toMatchObject({ status: 401 });

      expect((await management('DELETE', `/allerac/v1/tokens/${device.id}`)).status).toBe(204);
      await expect(ollama.list()).rejects.toMatchObject({ status_code: 401 });
      await expect(openai.models.list()).rejects.toMatchObject({ status: 401 });
    });

    it('should serve no management path and no trick spelling under a key, and log no key', async () => {
      const device = await addDevice('hallway');
      for (const target of [
        `/k/${device.token}/allerac/v1/tokens`,
        `/k/${device.token}/allerac/v1/memories`,
        `/k/${device.token}/auth/state`,
        `/k/${device.token}/%61llerac/v1/tokens`,
        `/K/${device.token}/api/tags`,
        `/k/%61${device.token.slice(1)}/api/tags`,
        `/%6b/${device.token}/api/tags`,
      ]) {
        const response = await fetch(`${url}${target}`);
        expect([400, 401, 404], target).toContain(response.status);
        expect(await response.text(), target).not.toContain(device.token);
      }
      expect((await fetch(`${url}/k/${device.token}/api/tags`)).status).toBe(200);
      // The node logs at debug level here; its log file holds every line it wrote.
      const log = readFileSync(join(dataDir, 'node.log'), 'utf8');
      expect(log.length).toBeGreaterThan(0);
      expect(log).not.toContain(device.token);
    });
  },
);
