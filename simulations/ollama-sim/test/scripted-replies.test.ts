import { afterEach, describe, expect, it } from 'vitest';
import { expectedAnswer, type OllamaSim, startOllamaSim } from '../src/index.js';
import { post, readNdjson } from './helpers.js';

const MARKDOWN = '**Bold** text\n\n```js\nconst a = 1;\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n';

describe('scripted replies', () => {
  const sims: OllamaSim[] = [];
  afterEach(async () => {
    await Promise.all(sims.splice(0).map((sim) => sim.close()));
  });

  it('should answer a scripted prompt with its text, streamed in several chunks, and others as before', async () => {
    const sim = await startOllamaSim({ profile: 'fast', replies: { 'show markdown': MARKDOWN } });
    sims.push(sim);
    const chunks = await readNdjson<{ message: { content: string }; done: boolean }>(
      await post(`${sim.url}/api/chat`, {
        model: 'llama3.2:3b',
        messages: [{ role: 'user', content: 'show markdown' }],
      }),
    );
    expect(chunks.map((c) => c.message.content).join('')).toBe(MARKDOWN);
    expect(chunks.length).toBeGreaterThan(5);
    const other = [{ role: 'user', content: 'something else' }];
    const plain = (await (
      await post(`${sim.url}/api/chat`, { model: 'llama3.2:3b', messages: other, stream: false })
    ).json()) as { message: { content: string } };
    expect(plain.message.content).toBe(expectedAnswer('llama3.2:3b', other));
  });

  it('should take replies set at runtime, and continue a scripted answer from its prefix', async () => {
    const sim = await startOllamaSim({ profile: 'fast' });
    sims.push(sim);
    sim.setReplies({ 'go on': 'one two three four' });
    const reply = (await (
      await post(`${sim.url}/api/chat`, {
        model: 'llama3.2:3b',
        messages: [
          { role: 'user', content: 'go on' },
          { role: 'assistant', content: 'one tw' },
        ],
        stream: false,
      })
    ).json()) as { message: { content: string } };
    expect(reply.message.content).toBe('o three four');
  });
});
