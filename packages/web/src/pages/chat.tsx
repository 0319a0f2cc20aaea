import type {
  ChatMemoryUse,
  ConversationHeader,
  ConversationList,
  ConversationMessages,
  Me,
  ModelTags,
  UsedMemory,
} from '@allerac/node';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, streamChat } from '../api.js';
import { toast } from '../components/toast.js';
import { t } from '../i18n.js';

interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
  node?: string | undefined;
  failovers?: number | undefined;
  memories?: UsedMemory[] | undefined;
  /** Which memories the serving node could be given (absent when memories were off). */
  memory?: ChatMemoryUse | undefined;
  status?: string;
}

/** Embedding models cannot chat; Ollama's tags do not say which they are, their names do. */
const EMBEDDING_NAME = /embed|minilm/i;

/** Chat: streamed answers, who answered, history, model picker and "remember this". */
export function ChatPage() {
  const [models, setModels] = useState<string[]>([]);
  const [model, setModel] = useState(localStorage.getItem('allerac.model') ?? '');
  const [conversations, setConversations] = useState<ConversationHeader[]>([]);
  const [conversationId, setConversationId] = useState<string | undefined>();
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [draft, setDraft] = useState('');
  const [streaming, setStreaming] = useState<AbortController | undefined>();
  const logRef = useRef<HTMLDivElement>(null);

  const loadConversations = async () => {
    const list = await api<ConversationList>('/allerac/v1/conversations?limit=50').catch(
      (): ConversationList => ({ conversations: [] }),
    );
    setConversations(list.conversations);
  };

  useEffect(() => {
    // This browser's last model, else the one chosen in the setup wizard, else the first.
    void Promise.all([api<ModelTags>('/api/tags'), api<Me>('/allerac/v1/me').catch(() => undefined)]).then(
      ([tags, me]) => {
        const names = tags.models.map((m) => m.name).filter((name) => !EMBEDDING_NAME.test(name));
        setModels(names);
        if (names.includes(model)) return;
        const preferred = me?.chatModel;
        const chosen = preferred != null && names.includes(preferred) ? preferred : names[0];
        if (chosen !== undefined) setModel(chosen);
      },
    );
    void loadConversations();
  }, []);

  useEffect(() => {
    logRef.current?.scrollTo({ top: logRef.current.scrollHeight });
  }, [messages]);

  const open = async (id: string) => {
    const result = await api<ConversationMessages>(
      `/allerac/v1/conversations/${encodeURIComponent(id)}/messages`,
    );
    setConversationId(id);
    setMessages(
      result.messages
        .filter((m) => m.role === 'user' || m.role === 'assistant')
        .map((m) => ({
          role: m.role as 'user' | 'assistant',
          content: m.content,
          node: m.node ?? undefined,
          failovers: m.metadata.failovers,
          memories: m.metadata.memories,
          memory: m.metadata.memory,
          status: m.status,
        })),
    );
  };

  const send = async (event: Event) => {
    event.preventDefault();
    const text = draft.trim();
    if (text === '' || streaming !== undefined || model === '') return;
    const history: ChatMessage[] = [...messages, { role: 'user', content: text }];
    setMessages([...history, { role: 'assistant', content: '' }]);
    setDraft('');
    const controller = new AbortController();
    setStreaming(controller);
    let answer = '';
    let node: string | undefined;
    let failovers: number | undefined;
    let memories: UsedMemory[] | undefined;
    let memory: ChatMemoryUse | undefined;
    const update = () =>
      setMessages([...history, { role: 'assistant', content: answer, node, failovers, memories, memory }]);
    try {
      const result = await streamChat(
        { model, messages: history.map((m) => ({ role: m.role, content: m.content })) },
        conversationId,
        (chunk) => {
          answer += chunk.message?.content ?? '';
          if (chunk.allerac !== undefined) {
            node = chunk.allerac.node ?? node;
            failovers = chunk.allerac.failovers;
            memories = chunk.allerac.memories;
            memory = chunk.allerac.memory;
          }
          update();
        },
        controller.signal,
      );
      node ??= result.node ?? undefined;
      update();
      if (result.conversationId !== null && conversationId === undefined)
        setConversationId(result.conversationId);
      localStorage.setItem('allerac.model', model);
      setTimeout(() => void loadConversations(), 300);
    } catch (error) {
      if ((error as Error).name !== 'AbortError')
        toast(t('common.error', { message: (error as Error).message }), 'error');
      update();
    } finally {
      setStreaming(undefined);
    }
  };

  const remember = async (text: string) => {
    try {
      await api('/allerac/v1/memories', { body: { text } });
      toast(t('chat.remembered'));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) toast(t('chat.memoryUnavailable'), 'error');
      else toast(t('common.error', { message: (error as Error).message }), 'error');
    }
  };

  return (
    <div class="chat-layout">
      <aside class="chat-history card" aria-label={t('chat.history')}>
        <button
          type="button"
          class="btn btn-primary btn-block"
          onClick={() => {
            setConversationId(undefined);
            setMessages([]);
          }}
        >
          + {t('chat.new')}
        </button>
        <h2 class="small-title">{t('chat.history')}</h2>
        {conversations.length === 0 && <p class="muted small">{t('chat.noHistory')}</p>}
        <ul class="conversation-list">
          {conversations.map((c) => (
            <li key={c.id}>
              <button
                type="button"
                class={c.id === conversationId ? 'conversation active' : 'conversation'}
                onClick={() => void open(c.id)}
              >
                <span class="ellipsis">{c.title || '…'}</span>
                <span class="muted small">{new Date(c.updatedAt).toLocaleString()}</span>
              </button>
            </li>
          ))}
        </ul>
      </aside>
      <section class="chat-main card">
        <div class="chat-toolbar">
          <h1 class="page-title">{t('chat.title')}</h1>
          <label class="field inline">
            <span>{t('chat.model')}</span>
            <select value={model} onChange={(e) => setModel(e.currentTarget.value)}>
              {models.length === 0 && <option value="">{t('chat.noModels')}</option>}
              {models.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        </div>
        <div class="chat-log" ref={logRef} aria-live="polite">
          {messages.length === 0 && <p class="chat-empty muted">{t('chat.empty')}</p>}
          {messages.map((message, index) => (
            <article key={index} class={`bubble bubble-${message.role}`} data-role={message.role}>
              <header class="bubble-head">
                <strong>{message.role === 'user' ? t('chat.you') : t('chat.agent')}</strong>
                {message.node !== undefined && (
                  <span class="badge" data-testid="answered-by">
                    {t('chat.answeredBy', { node: message.node })}
                  </span>
                )}
                {message.failovers !== undefined && message.failovers > 0 && (
                  <span class="badge badge-warn">{t('chat.failovers', { n: message.failovers })}</span>
                )}
              </header>
              <div class="bubble-text">{message.content}</div>
              {message.memory !== undefined &&
                (message.memory.scope !== 'private+shared' || message.memory.used > 0) && (
                  <p
                    class="memory-note muted small"
                    data-testid="memory-note"
                    data-scope={message.memory.scope}
                  >
                    {t(`chat.memoryScope.${message.memory.scope}`, {
                      n: message.memory.used,
                      node: message.node ?? '',
                    })}
                  </p>
                )}
              {message.memories !== undefined && message.memories.length > 0 && (
                <details class="memories-used">
                  <summary>{t('chat.memoriesUsed', { n: message.memories.length })}</summary>
                  <ul>
                    {message.memories.map((memory, i) => (
                      <li key={memory.id ?? i}>{memory.text}</li>
                    ))}
                  </ul>
                </details>
              )}
              {message.content !== '' && (
                <button
                  type="button"
                  class="btn btn-ghost btn-small"
                  onClick={() => void remember(message.content)}
                >
                  ☆ {t('chat.remember')}
                </button>
              )}
            </article>
          ))}
        </div>
        <form class="composer" onSubmit={(event) => void send(event)}>
          <label class="sr-only" for="message">
            {t('chat.message')}
          </label>
          <textarea
            id="message"
            aria-label={t('chat.message')}
            placeholder={t('chat.placeholder')}
            rows={2}
            value={draft}
            onInput={(e) => setDraft(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                (e.currentTarget.form as HTMLFormElement).requestSubmit();
              }
            }}
          />
          {streaming === undefined ? (
            <button type="submit" class="btn btn-primary" disabled={draft.trim() === '' || model === ''}>
              {t('chat.send')}
            </button>
          ) : (
            <button type="button" class="btn" onClick={() => streaming.abort()}>
              {t('chat.stop')}
            </button>
          )}
        </form>
      </section>
    </div>
  );
}
