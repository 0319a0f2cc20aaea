import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConversationRepository, NewMessage } from '../store/conversation-repository.js';
import { LiveAnswers } from './live-answers.js';

/** The answer of a recorded exchange, once known. */
export interface RecordedAnswer {
  content: string;
  model: string;
  node?: string | undefined;
  /** 'complete', 'stopped' (by its user), 'partial' (cut off mid-answer) or 'failed' (no answer). */
  status: 'complete' | 'stopped' | 'partial' | 'failed';
  metadata?: Record<string, unknown>;
}

/** An exchange being recorded: the question is already queued for storage. */
export interface RecordingHandle {
  readonly conversationId: string;
  /**
   * Queues the question for storage. Called once the first token is on its way to the client, so
   * the embedded database's work never delays it; `finish` stores it too if this was not called.
   * A new conversation without a placeholder waits up to QUESTION_DEFER_MS for its answer.
   */
  storeQuestion(): void;
  /** Stores the answer after the question; resolves once written (or failed, logged); never rejects. */
  finish(answer: RecordedAnswer): Promise<void>;
}

/** Options of {@link ConversationRecorder.begin}. */
export interface RecordingOptions {
  /**
   * Store the answer's row with the question, as `generating` for this model, and finish that
   * row in place: a page that reloads mid-answer finds it.
   */
  placeholderModel?: string | undefined;
}

/**
 * How long the question of a new API conversation waits for its answer before it is stored
 * alone. Most API answers end sooner; the question and the answer then go in as one transaction
 * (one commit of the embedded database instead of two, and half the round trips to its thread).
 */
export const QUESTION_DEFER_MS = 1_000;

/**
 * Keeps every chat that passes through the node. Writes happen off the request's critical path
 * (so they add nothing to time-to-first-token) but in order per conversation, and `flush()` waits
 * for all of them, so shutting down never loses a message.
 */
export class ConversationRecorder {
  private readonly pending = new Set<Promise<unknown>>();
  /** Questions waiting for their answer (QUESTION_DEFER_MS); `flush` stores them at once. */
  private readonly deferred = new Set<() => void>();
  /** Answers generated for the web UI that outlive their HTTP request. */
  readonly live = new LiveAnswers();

  constructor(
    private readonly conversations: ConversationRepository,
    private readonly logger: Logger,
  ) {}

  /**
   * Starts recording: a new conversation holding `messages`, or, when `conversationId` names an
   * existing one, the last of `messages` appended to it.
   */
  begin(
    source: string,
    messages: NewMessage[],
    conversationId?: string,
    options: RecordingOptions = {},
  ): RecordingHandle {
    const id = conversationId ?? randomUUID();
    const title = titleOf(messages);
    const placeholderModel = options.placeholderModel;
    let chain: Promise<number | undefined> | undefined;
    const question = async () => {
      if (conversationId !== undefined && (await this.conversations.exists(conversationId))) {
        const last = messages.at(-1);
        if (last !== undefined) await this.conversations.appendQuestion(conversationId, last);
      } else {
        await this.conversations.create({ id, title, source }, messages);
      }
    };
    const start = (withPlaceholder: boolean) => {
      chain ??= this.track(
        (async () => {
          await question();
          if (!withPlaceholder || placeholderModel === undefined) return undefined;
          return this.conversations.append(id, {
            role: 'assistant',
            content: '',
            model: placeholderModel,
            status: 'generating',
          });
        })(),
      );
      return chain;
    };
    // A new conversation without a placeholder may store its question with its answer.
    const mayDefer = conversationId === undefined && placeholderModel === undefined;
    let timer: NodeJS.Timeout | undefined;
    const storeNow = () => {
      clearTimeout(timer);
      this.deferred.delete(storeNow);
      void start(true);
    };
    return {
      conversationId: id,
      storeQuestion: () => {
        if (chain !== undefined || this.deferred.has(storeNow)) return;
        if (!mayDefer) return void start(true);
        this.deferred.add(storeNow);
        timer = setTimeout(storeNow, QUESTION_DEFER_MS);
        timer.unref();
      },
      finish: async (answer) => {
        const stored = {
          content: answer.content,
          node: answer.node ?? null,
          status: answer.status,
          metadata: answer.metadata ?? {},
        };
        if (mayDefer && chain === undefined) {
          clearTimeout(timer);
          this.deferred.delete(storeNow);
          const reply = { role: 'assistant', model: answer.model, ...stored };
          chain = this.track(this.conversations.create({ id, title, source }, [...messages, reply])).then(
            () => undefined,
          );
          await chain;
          return;
        }
        // Not stored yet: the answer goes in as one row, with no placeholder to finish.
        const written = start(false).then(async (placeholder) => {
          if (placeholder === undefined)
            await this.conversations.append(id, { role: 'assistant', model: answer.model, ...stored });
          else await this.conversations.finishAnswer(placeholder, stored);
        });
        await this.track(written);
      },
    };
  }

  /** Counts a background job (a detached answer) among the writes `flush` waits for. */
  keep(job: Promise<unknown>): void {
    void this.track(job);
  }

  /** Resolves once every queued write has been attempted; deferred questions are stored now. */
  async flush(): Promise<void> {
    for (const storeNow of [...this.deferred]) storeNow();
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track<T>(promise: Promise<T>): Promise<T | undefined> {
    const tracked = promise.catch((error: unknown) => {
      this.logger.error({ err: error }, 'failed to store a conversation message');
      return undefined;
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
    return tracked;
  }
}

function titleOf(messages: NewMessage[]): string {
  const firstUser = messages.find((message) => message.role === 'user');
  return (firstUser?.content ?? '').replace(/\s+/g, ' ').trim().slice(0, 80);
}
