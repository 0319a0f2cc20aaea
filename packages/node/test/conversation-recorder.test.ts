import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConversationRecorder } from '../src/inference/conversation-recorder.js';
import { openPgliteDatabase } from '../src/store/pglite-database.js';
import type { Database } from '../src/store/sql.js';
import { createStore, type Store } from '../src/store/store.js';
import { waitFor } from './helpers/test-node.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** The database, counting the transactions begun through it. */
function counting(db: Database, counter: { transactions: number }): Database {
  return new Proxy(db, {
    get(inner, property, receiver) {
      if (property === 'transaction')
        return (fn: Parameters<Database['transaction']>[0]) => {
          counter.transactions += 1;
          return inner.transaction(fn);
        };
      const value = Reflect.get(inner, property, receiver);
      return typeof value === 'function' ? value.bind(inner) : value;
    },
  });
}

describe('ConversationRecorder', () => {
  let store: Store;
  let recorder: ConversationRecorder;
  const counter = { transactions: 0 };
  const question = [{ role: 'user', content: 'what is the wifi password?' }];
  const answer = { content: 'hunter2', model: 'llama3.2:3b', node: 'alice', status: 'complete' as const };

  beforeAll(async () => {
    store = await createStore(counting(await openPgliteDatabase(undefined), counter));
    recorder = new ConversationRecorder(store.conversations, logger);
  });

  afterAll(async () => {
    await store?.close();
  });

  beforeEach(() => {
    counter.transactions = 0;
  });

  it('should store a new API chat that ends soon as one transaction: question and answer', async () => {
    const recording = recorder.begin('ollama-api', question);
    recording.storeQuestion();
    await recording.finish(answer);
    expect(counter.transactions).toBe(1);
    const stored = await store.conversations.messages(recording.conversationId);
    expect(stored.map((m) => [m.role, m.content])).toEqual([
      ['user', 'what is the wifi password?'],
      ['assistant', 'hunter2'],
    ]);
    expect(stored[1]).toMatchObject({ model: 'llama3.2:3b', node: 'alice', status: 'complete' });
  });

  it('should store the question of a long answer by itself before the answer ends', async () => {
    const recording = recorder.begin('ollama-api', question);
    recording.storeQuestion();
    await waitFor(
      async () => (await store.conversations.messages(recording.conversationId)).length === 1,
      10_000,
      'the question to be stored alone',
    );
    await recording.finish(answer);
    expect((await store.conversations.messages(recording.conversationId)).map((m) => m.role)).toEqual([
      'user',
      'assistant',
    ]);
  });

  it('should store a waiting question at once when flushed (shutdown)', async () => {
    const recording = recorder.begin('ollama-api', question);
    recording.storeQuestion();
    await recorder.flush();
    expect(await store.conversations.messages(recording.conversationId)).toHaveLength(1);
    await recording.finish(answer);
    expect(await store.conversations.messages(recording.conversationId)).toHaveLength(2);
  });

  it('should store the question at once when the answer has a placeholder (a page may reload)', async () => {
    const recording = recorder.begin('ui', question, undefined, { placeholderModel: 'llama3.2:3b' });
    recording.storeQuestion();
    await recorder.flush();
    const stored = await store.conversations.messages(recording.conversationId);
    expect(stored.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'generating'],
    ]);
  });
});
