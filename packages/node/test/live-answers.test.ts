import { describe, expect, it } from 'vitest';
import {
  AnswerInProgressError,
  AnswerStoppedError,
  type LiveAnswerEvent,
  LiveAnswers,
  NotGeneratingError,
  TooManyLiveAnswersError,
} from '../src/inference/live-answers.js';

const collect = async (events: AsyncIterable<LiveAnswerEvent>) => {
  const seen: LiveAnswerEvent[] = [];
  for await (const event of events) seen.push(event);
  return seen;
};

describe('the registry of live answers', () => {
  it('should hold one answer per conversation and at most its limit in all', () => {
    const live = new LiveAnswers(2);
    const first = live.begin('c1', 'm');
    expect(() => live.begin('c1', 'm')).toThrow(AnswerInProgressError);
    live.begin('c2', 'm');
    expect(() => live.begin('c3', 'm')).toThrow(TooManyLiveAnswersError);
    live.drop(first);
    expect(live.get('c1')).toBeUndefined();
    expect(live.begin('c3', 'm').conversationId).toBe('c3');
    expect(live.size).toBe(2);
  });

  it('should replay the text so far, then follow to the end', async () => {
    const live = new LiveAnswers();
    const answer = live.begin('c1', 'm');
    answer.serving('office', 'cold');
    answer.append('Hel');
    const following = collect(answer.follow());
    // The follower has taken its snapshot once its first event is read; later text comes as deltas.
    await Promise.resolve();
    answer.append('lo');
    answer.end('complete');
    const events = await following;
    expect(events[0]).toEqual({
      type: 'snapshot',
      conversationId: 'c1',
      model: 'm',
      node: 'office',
      modelState: 'cold',
      content: 'Hel',
    });
    const text = events
      .flatMap((e) => (e.type === 'snapshot' || e.type === 'delta' ? [e.content] : []))
      .join('');
    expect(text).toBe('Hello');
    expect(events.at(-1)).toEqual({ type: 'end', status: 'complete', error: null });
    // A follower that comes after the end gets the whole answer and the end at once.
    expect(await collect(answer.follow())).toEqual([
      { ...events[0], content: 'Hello' },
      { type: 'end', status: 'complete', error: null },
    ]);
  });

  it('should stop with a typed reason, and refuse to stop what is not generating', () => {
    const live = new LiveAnswers();
    expect(() => live.stop('nothing')).toThrow(NotGeneratingError);
    const answer = live.begin('c1', 'm');
    live.stop('c1');
    expect(answer.signal.reason).toBeInstanceOf(AnswerStoppedError);
    answer.end('stopped');
    expect(() => live.stop('c1')).toThrow(NotGeneratingError);
  });

  it('should let a follower leave early', async () => {
    const answer = new LiveAnswers().begin('c1', 'm');
    const leave = new AbortController();
    const following = collect(answer.follow(leave.signal));
    await Promise.resolve();
    leave.abort();
    expect((await following).map((e) => e.type)).toEqual(['snapshot']);
  });
});
