import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PeerRegistry } from '../src/models/peer-registry.js';

/**
 * The loopback registry is reachable by every local process while a copy runs; it must forward
 * nothing but the model being copied to the peer. The `open` port counts what would reach the
 * peer: a refusal must not reach it at all.
 */
describe('peer registry: only the model being copied reaches the peer', () => {
  let registry: PeerRegistry;
  const opened: string[] = [];

  beforeAll(async () => {
    registry = await PeerRegistry.start({
      peerId: '12D3KooWHolder',
      sourceHost: 'registry.ollama.ai',
      model: { namespace: 'library', model: 'llama3.2', tag: '3b' },
      open: async (peerId) => {
        opened.push(peerId);
        throw new Error('the holder is not reachable in this test');
      },
      logger: pino({ level: 'silent' }),
    });
  });

  afterAll(async () => {
    await registry.close();
  });

  const get = (path: string) => fetch(`http://${registry.host}${path}`);

  it("should answer 404 to the model's real namespace, another model, another tag and an unnamed blob", async () => {
    const token = registry.modelName.split('/')[1]!;
    expect(token).toMatch(/^copy-[0-9a-f]{32}$/);
    for (const path of [
      '/v2/library/llama3.2/manifests/3b',
      `/v2/${token}/mistral/manifests/latest`,
      `/v2/${token}/llama3.2/manifests/70b`,
      `/v2/${token}/llama3.2/blobs/sha256:${'a'.repeat(64)}`,
      `/v2/copy-${'0'.repeat(32)}/llama3.2/manifests/3b`,
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe(
        'NOT_FOUND',
      );
    }
    expect(opened).toEqual([]);
  });

  it('should forward the manifest of the model being copied, under its token', async () => {
    const response = await get(`/v2/${registry.modelName.split('/')[1]}/llama3.2/manifests/3b`);
    // The holder is unreachable here: the request got as far as the peer, and failed there.
    expect(response.status).toBe(502);
    expect(opened).toEqual(['12D3KooWHolder']);
  });
});
