import type { ChatMessage } from '../chat-answer.js';
import { t } from '../i18n.js';
import { Markdown } from './markdown.js';
import { ProposalNote } from './proposal-note.js';
import { ToolCalls } from './tool-calls.js';

/** What to show before the first token: the model is loading, or the node is thinking. */
function pendingText(message: ChatMessage): string {
  if (message.node === undefined) return t('chat.thinking');
  if (message.modelState === 'cold') return t('chat.loadingModel', { node: message.node });
  return t('chat.thinkingOn', { node: message.node });
}

/** A chat bubble: the user's text, or the agent's rendered answer with its state and actions. */
export function ChatBubble(props: {
  message: ChatMessage;
  onRetry?: (() => void) | undefined;
  onRemember: (text: string) => void;
}) {
  const { message } = props;
  const pending = message.status === 'generating' && message.content === '';
  return (
    <article
      class={`bubble bubble-${message.role}`}
      data-role={message.role}
      data-status={message.status}
      aria-busy={message.status === 'generating' ? 'true' : undefined}
    >
      <header class="bubble-head">
        <strong>{message.role === 'user' ? t('chat.you') : t('chat.agent')}</strong>
        {message.node !== undefined && !pending && (
          <span class="badge" data-testid="answered-by">
            {t('chat.answeredBy', { node: message.node })}
          </span>
        )}
        {message.failovers !== undefined && message.failovers > 0 && (
          <span class="badge badge-warn">{t('chat.failovers', { n: message.failovers })}</span>
        )}
        {message.status === 'stopped' && (
          <span class="badge badge-warn" data-testid="answer-stopped">
            {t('chat.stopped')}
          </span>
        )}
      </header>
      {pending && (
        <p class="bubble-pending muted" data-testid="answer-pending">
          <span class="spinner" aria-hidden="true" />
          {pendingText(message)}
        </p>
      )}
      {message.toolCalls !== undefined && message.toolCalls.length > 0 && (
        <ToolCalls calls={message.toolCalls} />
      )}
      {message.role === 'user' ? (
        <div class="bubble-text">{message.content}</div>
      ) : (
        message.content !== '' && <Markdown text={message.content} />
      )}
      {message.status === 'partial' && <p class="muted small">{t('chat.partial')}</p>}
      {message.status === 'failed' && (
        <div class="alert alert-error answer-error" role="alert" data-testid="answer-error">
          <span>{t('chat.failed', { message: message.error ?? '' })}</span>
          {props.onRetry !== undefined && (
            <button type="button" class="btn btn-small" onClick={props.onRetry}>
              {t('chat.retry')}
            </button>
          )}
        </div>
      )}
      {message.memory !== undefined &&
        (message.memory.scope !== 'private+shared' || message.memory.used > 0) && (
          <p class="memory-note muted small" data-testid="memory-note" data-scope={message.memory.scope}>
            {t(`chat.memoryScope.${message.memory.scope}`, {
              n: message.memory.used,
              node: message.node ?? '',
            })}
          </p>
        )}
      {message.proposals !== undefined && message.proposals > 0 && <ProposalNote count={message.proposals} />}
      {message.notRemembered === true && (
        <p class="memory-note muted small" data-testid="not-remembered">
          {t('chat.notRemembered')}
        </p>
      )}
      {message.memories !== undefined && message.memories.length > 0 && (
        <details class="memories-used">
          <summary>{t('chat.memoriesUsed', { n: message.memories.length })}</summary>
          <ul>
            {message.memories.map((memory, i) => (
              <li key={memory.id ?? i}>
                {memory.citation !== undefined && <cite class="citation">{memory.citation} </cite>}
                {memory.text}
              </li>
            ))}
          </ul>
        </details>
      )}
      {message.content !== '' && message.status !== 'generating' && (
        <button
          type="button"
          class="btn btn-ghost btn-small"
          onClick={() => props.onRemember(message.content)}
        >
          ☆ {t('chat.remember')}
        </button>
      )}
    </article>
  );
}
