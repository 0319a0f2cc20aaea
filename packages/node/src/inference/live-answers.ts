/**
 * Answers being generated for the web UI, kept in memory while they run so a page that reloads
 * (or a second tab) can replay what was said so far and follow the rest. Bounded, and each entry
 * is dropped once its answer is stored.
 */
import { EventEmitter } from 'node:events';
import { ConflictError, NotFoundError, UnavailableError } from '../errors.js';

/** How many answers may run detached from their client at once; each holds its text in memory. */
export const MAX_LIVE_ANSWERS = 64;

/** How an answer ended, as its stored message says. */
export type FinalAnswerStatus = 'complete' | 'stopped' | 'partial' | 'failed';

/** Whether the serving node had the model in memory when the answer was sent to it. */
export type ModelState = 'loaded' | 'cold';

/** What a follower of a live answer is told, in order. */
export type LiveAnswerEvent =
  | {
      type: 'snapshot';
      conversationId: string;
      model: string;
      /** The node the answer went to, once placed. */
      node: string | null;
      modelState: ModelState | null;
      /** The whole text generated so far. */
      content: string;
    }
  | { type: 'serving'; node: string; modelState: ModelState | null }
  | { type: 'delta'; content: string }
  | { type: 'end'; status: FinalAnswerStatus; error: string | null };

/** The reason a generation is aborted with when its user presses stop. */
export class AnswerStoppedError extends ConflictError {
  override name = 'AnswerStoppedError';
  constructor() {
    super('the answer was stopped');
  }
}

/** Nothing is being generated in that conversation. */
export class NotGeneratingError extends NotFoundError {
  override name = 'NotGeneratingError';
  constructor() {
    super('no answer is being generated in this conversation');
  }
}

/** The conversation already has an answer under way; a second would interleave with it. */
export class AnswerInProgressError extends ConflictError {
  override name = 'AnswerInProgressError';
  constructor() {
    super('an answer is still being generated in this conversation; stop it or wait for it');
  }
}

/** Every live slot is taken. */
export class TooManyLiveAnswersError extends UnavailableError {
  override name = 'TooManyLiveAnswersError';
  constructor(limit: number) {
    super(`${limit} answers are being generated already; try again shortly`, 2);
  }
}

/** One answer under way. */
export class LiveAnswer {
  private text = '';
  private node: string | null = null;
  private modelState: ModelState | null = null;
  private ending: Extract<LiveAnswerEvent, { type: 'end' }> | undefined;
  private readonly events = new EventEmitter();
  private readonly controller = new AbortController();

  constructor(
    readonly conversationId: string,
    readonly model: string,
  ) {
    // Followers are a page or two; the emitter's leak warning would be noise, not a signal.
    this.events.setMaxListeners(0);
  }

  /** Aborted with an `AnswerStoppedError` when the user stops the answer. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether the answer has ended (its final write may still be under way). */
  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** Stops the generation. */
  stop(): void {
    if (!this.controller.signal.aborted) this.controller.abort(new AnswerStoppedError());
  }

  /** The node chosen for the answer (again, when it moved to another node). */
  serving(node: string, modelState: ModelState | null): void {
    if (this.ended) return;
    this.node = node;
    this.modelState = modelState;
    this.emit({ type: 'serving', node, modelState });
  }

  /** More text of the answer. */
  append(content: string): void {
    if (this.ended || content === '') return;
    this.text += content;
    this.emit({ type: 'delta', content });
  }

  /** The answer ended; followers get the end and stop. */
  end(status: FinalAnswerStatus, error?: string): void {
    if (this.ended) return;
    this.ending = { type: 'end', status, error: error ?? null };
    this.emit(this.ending);
  }

  /** The text so far, then every event until the end; stops early when `signal` aborts. */
  async *follow(signal?: AbortSignal): AsyncGenerator<LiveAnswerEvent> {
    const queue: LiveAnswerEvent[] = [];
    let wake: (() => void) | undefined;
    const listener = (event: LiveAnswerEvent) => {
      queue.push(event);
      wake?.();
    };
    const onAbort = () => wake?.();
    this.events.on('event', listener);
    signal?.addEventListener('abort', onAbort);
    try {
      yield {
        type: 'snapshot',
        conversationId: this.conversationId,
        model: this.model,
        node: this.node,
        modelState: this.modelState,
        content: this.text,
      };
      if (this.ending !== undefined && queue.length === 0) {
        yield this.ending;
        return;
      }
      while (signal?.aborted !== true) {
        const event = queue.shift();
        if (event === undefined) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          continue;
        }
        yield event;
        if (event.type === 'end') return;
      }
    } finally {
      this.events.off('event', listener);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private emit(event: LiveAnswerEvent): void {
    this.events.emit('event', event);
  }
}

/** The registry: at most one live answer per conversation, at most `limit` in all. */
export class LiveAnswers {
  private readonly answers = new Map<string, LiveAnswer>();

  constructor(private readonly limit = MAX_LIVE_ANSWERS) {}

  /** Registers a new answer; refuses a second one in the same conversation, or one too many. */
  begin(conversationId: string, model: string): LiveAnswer {
    if (this.answers.has(conversationId)) throw new AnswerInProgressError();
    if (this.answers.size >= this.limit) throw new TooManyLiveAnswersError(this.limit);
    const answer = new LiveAnswer(conversationId, model);
    this.answers.set(conversationId, answer);
    return answer;
  }

  /** Forgets an answer once it is stored. */
  drop(answer: LiveAnswer): void {
    if (this.answers.get(answer.conversationId) === answer) this.answers.delete(answer.conversationId);
  }

  /** The live answer of a conversation, if any. */
  get(conversationId: string): LiveAnswer | undefined {
    return this.answers.get(conversationId);
  }

  /** Stops the live answer of a conversation; throws `NotGeneratingError` when there is none. */
  stop(conversationId: string): void {
    const answer = this.answers.get(conversationId);
    if (answer === undefined || answer.ended) throw new NotGeneratingError();
    answer.stop();
  }

  /** How many answers are live. */
  get size(): number {
    return this.answers.size;
  }
}
