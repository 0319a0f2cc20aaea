import type { ConversationHeader, ConversationMessages, Me, ModelTags } from '@allerac/node';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, streamChat } from '../api.js';
import { applyChunk, applyLiveEvent, type ChatMessage, forModel, fromStored } from '../chat-answer.js';
import { AGENT_PREFIX, AgentPicker, chatModelOf, useAgents } from '../components/agent-picker.js';
import { ChatBubble } from '../components/chat-message.js';
import { ConversationList } from '../components/conversation-list.js';
import { toast } from '../components/toast.js';
import {
  deleteConversation,
  followLive,
  listConversations,
  renameConversation,
  stopConversation,
} from '../conversations.js';
import { t } from '../i18n.js';
import { queryParam, replaceQueryParam } from '../router.js';

/** Embedding models cannot chat; Ollama's tags do not say which they are, their names do. */
const EMBEDDING_NAME = /embed|minilm/i;
/** The query parameter holding the open conversation, so a reload or a link reopens it. */
const CONVERSATION_PARAM = 'c';
/** How long typing in the search box pauses before the list is asked for again. */
const SEARCH_DEBOUNCE_MS = 250;

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
const isAbort = (error: unknown) => error instanceof Error && error.name === 'AbortError';

/**
 * Chat: streamed answers rendered as markdown, who answered, inline errors with Retry, answers
 * that survive a reload, and the conversation history (search, rename, delete, other apps').
 */
export function ChatPage() {
  const [models, setModels] = useState<string[]>([]);
  const [model, setModel] = useState(localStorage.getItem('allerac.model') ?? '');
  const agents = useAgents();
  const [agent, setAgent] = useState(localStorage.getItem('allerac.agent') ?? '');
  const [conversations, setConversations] = useState<ConversationHeader[]>([]);
  const [query, setQuery] = useState('');
  const [fromOtherApps, setFromOtherApps] = useState(false);
  const [conversationId, setConversationId] = useState<string | undefined>();
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [draft, setDraft] = useState('');
  const [running, setRunning] = useState<AbortController | undefined>();
  const logRef = useRef<HTMLDivElement>(null);
  // Async work reads these, not the state of the render that started it.
  const idRef = useRef<string | undefined>(undefined);
  const runningRef = useRef<AbortController | undefined>(undefined);
  const stopRequested = useRef(false);
  const listRef = useRef({ query, fromOtherApps });
  listRef.current = { query, fromOtherApps };

  const loadConversations = async () => {
    const { query: q, fromOtherApps: other } = listRef.current;
    const list = await listConversations(q, other ? 'api' : 'ui').catch(() => ({ conversations: [] }));
    setConversations(list.conversations);
  };

  const select = (id: string | undefined) => {
    idRef.current = id;
    setConversationId(id);
    replaceQueryParam(CONVERSATION_PARAM, id);
  };

  const begin = () => {
    runningRef.current?.abort();
    const controller = new AbortController();
    runningRef.current = controller;
    stopRequested.current = false;
    setRunning(controller);
    return controller;
  };
  const end = (controller: AbortController) => {
    if (runningRef.current !== controller) return;
    runningRef.current = undefined;
    setRunning(undefined);
  };

  const fetchMessages = async (id: string) =>
    (await api<ConversationMessages>(`/allerac/v1/conversations/${encodeURIComponent(id)}/messages`)).messages
      .filter((m) => m.role === 'user' || m.role === 'assistant')
      .map(fromStored);

  /** Follows an answer the node is still generating (after a reload, say) until it ends. */
  const follow = async (id: string, history: ChatMessage[], answer: ChatMessage) => {
    const controller = begin();
    const shown: ChatMessage = { ...answer, status: 'generating' };
    const update = () => {
      if (idRef.current === id) setMessages([...history, { ...shown }]);
    };
    try {
      const followed = await followLive(
        id,
        (event) => {
          applyLiveEvent(shown, event);
          update();
        },
        controller.signal,
      );
      // The store has the answer's full record (who served it, memories, failovers).
      const stored = await fetchMessages(id);
      const last = stored.at(-1);
      if (last?.role === 'assistant' && last.status !== 'generating') {
        if (idRef.current === id) setMessages(stored);
      } else {
        if (!followed || shown.status === 'generating') shown.status = 'partial';
        update();
      }
    } catch (error) {
      if (isAbort(error) && !stopRequested.current) return;
      shown.status = stopRequested.current ? 'stopped' : 'failed';
      shown.error = errorText(error);
      update();
    } finally {
      end(controller);
    }
  };

  const open = async (id: string) => {
    try {
      const loaded = await fetchMessages(id);
      runningRef.current?.abort();
      select(id);
      setMessages(loaded);
      const last = loaded.at(-1);
      if (last?.role === 'assistant' && last.status === 'generating')
        await follow(id, loaded.slice(0, -1), last);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) select(undefined);
      toast(t('common.error', { message: errorText(error) }), 'error');
    }
  };

  /** Asks for an answer to `history` (which ends with the user's message) and streams it in. */
  const generate = async (history: ChatMessage[]) => {
    const controller = begin();
    const answer: ChatMessage = { role: 'assistant', content: '', status: 'generating' };
    const startedIn = idRef.current;
    const update = () => {
      if (idRef.current === startedIn || startedIn === undefined) setMessages([...history, { ...answer }]);
    };
    update();
    try {
      const result = await streamChat(
        { model: chatModelOf(model, agent), messages: forModel(history) },
        startedIn,
        (chunk) => {
          applyChunk(answer, chunk);
          update();
        },
        controller.signal,
        (start) => {
          answer.node = start.node ?? undefined;
          answer.modelState = start.modelState ?? undefined;
          if (start.conversationId !== null && idRef.current === undefined) select(start.conversationId);
          update();
          void loadConversations();
        },
      );
      answer.node ??= result.node ?? undefined;
      answer.status = stopRequested.current ? 'stopped' : 'complete';
      localStorage.setItem('allerac.model', model);
      localStorage.setItem('allerac.agent', agent);
    } catch (error) {
      if (isAbort(error) && !stopRequested.current) return;
      if (stopRequested.current) answer.status = 'stopped';
      else {
        answer.status = 'failed';
        answer.error = errorText(error);
      }
    } finally {
      end(controller);
    }
    update();
    void loadConversations();
  };

  useEffect(() => {
    // This browser's last model, else the one chosen in the setup wizard, else the first.
    void Promise.all([api<ModelTags>('/api/tags'), api<Me>('/allerac/v1/me').catch(() => undefined)]).then(
      ([tags, me]) => {
        // Assistants have a picker of their own.
        const names = tags.models
          .map((m) => m.name)
          .filter((name) => !EMBEDDING_NAME.test(name) && !name.startsWith(AGENT_PREFIX));
        setModels(names);
        if (names.includes(model)) return;
        const preferred = me?.chatModel;
        const chosen = preferred != null && names.includes(preferred) ? preferred : names[0];
        if (chosen !== undefined) setModel(chosen);
      },
    );
    const id = queryParam(CONVERSATION_PARAM);
    if (id !== undefined) void open(id);
    return () => runningRef.current?.abort();
  }, []);

  useEffect(() => {
    const timer = setTimeout(() => void loadConversations(), query === '' ? 0 : SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [query, fromOtherApps]);

  useEffect(() => {
    logRef.current?.scrollTo({ top: logRef.current.scrollHeight });
  }, [messages]);

  const send = (event: Event) => {
    event.preventDefault();
    const text = draft.trim();
    if (text === '' || running !== undefined || model === '') return;
    setDraft('');
    void generate([...messages, { role: 'user', content: text }]);
  };

  const stop = async () => {
    const controller = runningRef.current;
    if (controller === undefined) return;
    stopRequested.current = true;
    // The node keeps a UI chat's answer going when the page goes away, so stopping is explicit.
    if (idRef.current !== undefined) await stopConversation(idRef.current).catch(() => {});
    controller.abort();
  };

  const remember = async (text: string) => {
    try {
      await api('/allerac/v1/memories', { body: { text } });
      toast(t('chat.remembered'));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) toast(t('chat.memoryUnavailable'), 'error');
      else toast(t('common.error', { message: errorText(error) }), 'error');
    }
  };

  const rename = async (id: string, title: string) => {
    try {
      await renameConversation(id, title);
      await loadConversations();
    } catch (error) {
      toast(t('common.error', { message: errorText(error) }), 'error');
      throw error;
    }
  };

  const remove = async (id: string) => {
    try {
      await deleteConversation(id);
      if (idRef.current === id) {
        runningRef.current?.abort();
        select(undefined);
        setMessages([]);
      }
      await loadConversations();
    } catch (error) {
      toast(t('common.error', { message: errorText(error) }), 'error');
    }
  };

  return (
    <div class="chat-layout">
      <aside class="chat-history card" aria-label={t('chat.history')}>
        <button
          type="button"
          class="btn btn-primary btn-block"
          onClick={() => {
            runningRef.current?.abort();
            select(undefined);
            setMessages([]);
          }}
        >
          + {t('chat.new')}
        </button>
        <h2 class="small-title">{t('chat.history')}</h2>
        <ConversationList
          conversations={conversations}
          activeId={conversationId}
          query={query}
          onQuery={setQuery}
          fromOtherApps={fromOtherApps}
          onFromOtherApps={setFromOtherApps}
          onOpen={(id) => void open(id)}
          onRename={rename}
          onDelete={remove}
        />
      </aside>
      <section class="chat-main card">
        <div class="chat-toolbar">
          <h1 class="page-title">{t('chat.title')}</h1>
          <label class="field inline">
            <span>{t('chat.model')}</span>
            {/* An assistant brings its own model. */}
            <select value={model} disabled={agent !== ''} onChange={(e) => setModel(e.currentTarget.value)}>
              {models.length === 0 && <option value="">{t('chat.noModels')}</option>}
              {models.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
          <AgentPicker agents={agents} value={agent} onChange={setAgent} />
        </div>
        <div class="chat-log" ref={logRef} aria-live="polite">
          {messages.length === 0 && <p class="chat-empty muted">{t('chat.empty')}</p>}
          {messages.map((message, index) => (
            <ChatBubble
              key={index}
              message={message}
              onRemember={(text) => void remember(text)}
              onRetry={
                message.status === 'failed' && running === undefined && index === messages.length - 1
                  ? () => void generate(messages.slice(0, index))
                  : undefined
              }
            />
          ))}
        </div>
        <form class="composer" onSubmit={send}>
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
          {running === undefined ? (
            <button type="submit" class="btn btn-primary" disabled={draft.trim() === '' || model === ''}>
              {t('chat.send')}
            </button>
          ) : (
            <button type="button" class="btn" onClick={() => void stop()}>
              {t('chat.stop')}
            </button>
          )}
        </form>
      </section>
    </div>
  );
}
