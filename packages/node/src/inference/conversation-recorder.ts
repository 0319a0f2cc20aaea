import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ConversationRepository, NewMessage } from '../store/conversation-repository.js';

/** The answer of a recorded exchange, once known. */
export interface RecordedAnswer {
  content: string;
  model: string;
  node?: string | undefined;
  /** 'complete', 'partial' (cut off mid-answer) or 'failed' (no answer). */
  status: 'complete' | 'partial' | 'failed';
  metadata?: Record<string, unknown>;
}

/** An exchange being recorded: the question is already queued for storage. */
export interface RecordingHandle {
  readonly conversationId: string;
  /**
   * Queues the question for storage. Called once the first token is on its way to the client, so
   * the embedded database's work never delays it; `finish` stores it too if this was not called.
   */
  storeQuestion(): void;
  /** Stores the answer after the question; never throws. */
  finish(answer: RecordedAnswer): void;
}

/**
 * Keeps every chat that passes through the node. Writes happen off the request's critical path
 * (so they add nothing to time-to-first-token) but in order per conversation, and `flush()` waits
 * for all of them, so shutting down never loses a message.
 */
export class ConversationRecorder {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly conversations: ConversationRepository,
    private readonly logger: Logger,
  ) {}

  /**
   * Starts recording: a new conversation holding `messages`, or, when `conversationId` names an
   * existing one, the last of `messages` appended to it.
   */
  begin(source: string, messages: NewMessage[], conversationId?: string): RecordingHandle {
    const id = conversationId ?? randomUUID();
    const title = titleOf(messages);
    let chain: Promise<unknown> | undefined;
    const start = () => {
      chain ??= this.track(
        (async () => {
          if (conversationId !== undefined && (await this.conversations.exists(conversationId))) {
            const last = messages.at(-1);
            if (last !== undefined) await this.conversations.append(conversationId, last);
          } else {
            await this.conversations.create({ id, title, source }, messages);
          }
        })(),
      );
      return chain;
    };
    return {
      conversationId: id,
      storeQuestion: () => {
        start();
      },
      finish: (answer) => {
        chain = this.track(
          start().then(() =>
            this.conversations.append(id, {
              role: 'assistant',
              content: answer.content,
              model: answer.model,
              node: answer.node ?? null,
              status: answer.status,
              metadata: answer.metadata ?? {},
            }),
          ),
        );
      },
    };
  }

  /** Resolves once every queued write has been attempted. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(promise: Promise<unknown>): Promise<unknown> {
    const tracked = promise.catch((error: unknown) => {
      this.logger.error({ err: error }, 'failed to store a conversation message');
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
