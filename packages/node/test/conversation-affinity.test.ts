import { describe, expect, it } from 'vitest';
import {
  ConversationAffinities,
  promptTokensOf,
  turnTokens,
} from '../src/inference/conversation-affinity.js';

const turn1 = {
  model: 'llama3.2:3b',
  messages: [
    { role: 'system', content: 'You are helpful.' },
    { role: 'user', content: 'Summarise this long document...' },
  ],
};
const turn2 = {
  ...turn1,
  messages: [
    ...turn1.messages,
    { role: 'assistant', content: 'It says...' },
    { role: 'user', content: 'And?' },
  ],
};

describe('ConversationAffinities', () => {
  it('should key a conversation by its id when given, else by its opening, the same on every turn', () => {
    const affinities = new ConversationAffinities();
    expect(affinities.keyOf('c1', turn1)).toBe(affinities.keyOf('c1', turn2));
    expect(affinities.keyOf(undefined, turn1)).toBe(affinities.keyOf(undefined, turn2));
    expect(affinities.keyOf(undefined, turn1)).not.toBe(affinities.keyOf('c1', turn1));
    const other = { ...turn1, messages: [turn1.messages[0], { role: 'user', content: 'Something else' }] };
    expect(affinities.keyOf(undefined, other)).not.toBe(affinities.keyOf(undefined, turn1));
    expect(affinities.keyOf(undefined, { ...turn1, model: 'qwen3:8b' })).not.toBe(
      affinities.keyOf(undefined, turn1),
    );
    expect(affinities.keyOf(undefined, { model: 'x' })).toBeUndefined();
  });

  it('should give the last node and the tokens it holds, never more than the new prompt', () => {
    const affinities = new ConversationAffinities();
    const key = affinities.keyOf(undefined, turn1);
    expect(affinities.lookup(key, 100)).toBeUndefined();
    affinities.record(key, {
      nodeId: 'mini',
      model: 'llama3.2:3b',
      tokens: turnTokens(40, { eval_count: 30 }),
    });
    expect(affinities.lookup(key, 100)).toEqual({ nodeId: 'mini', cachedTokens: 70, laterRequests: 0 });
    expect(affinities.lookup(key, 50)).toEqual({ nodeId: 'mini', cachedTokens: 50, laterRequests: 0 });
    // Other requests on that node since: its KV cache slots may have gone to them.
    affinities.record(undefined, { nodeId: 'mini', model: 'llama3.2:3b', tokens: 10 });
    affinities.record('other', { nodeId: 'mini', model: 'llama3.2:3b', tokens: 10 });
    affinities.record('elsewhere', { nodeId: 'gpu', model: 'llama3.2:3b', tokens: 10 });
    expect(affinities.lookup(key, 100)?.laterRequests).toBe(2);
    // Another model on that node runs in its own runner with its own KV caches: it takes no slot.
    affinities.record('coder', { nodeId: 'mini', model: 'qwen2.5-coder:7b', tokens: 10 });
    expect(affinities.lookup(key, 100)?.laterRequests).toBe(2);
    affinities.record(key, { nodeId: 'gpu', model: 'llama3.2:3b', tokens: 120 });
    expect(affinities.lookup(key, 200)?.nodeId).toBe('gpu');
  });

  it('should forget the least recently used conversation beyond its capacity', () => {
    const affinities = new ConversationAffinities(2);
    affinities.record('a', { nodeId: 'n', model: 'm', tokens: 1 });
    affinities.record('b', { nodeId: 'n', model: 'm', tokens: 1 });
    affinities.lookup('a', 1);
    affinities.record('c', { nodeId: 'n', model: 'm', tokens: 1 });
    expect(affinities.size).toBe(2);
    expect(affinities.lookup('b', 1)).toBeUndefined();
    expect(affinities.lookup('a', 1)).toBeDefined();
  });

  it('should estimate prompt tokens at four characters a token over messages, prompt and system', () => {
    expect(promptTokensOf({ messages: [{ content: 'x'.repeat(400) }, { content: 'y'.repeat(400) }] })).toBe(
      200,
    );
    expect(promptTokensOf({ prompt: 'x'.repeat(10), system: 'y'.repeat(6) })).toBe(4);
    expect(promptTokensOf({})).toBe(1);
  });
});
