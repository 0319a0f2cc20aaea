import type {
  MemoryHit,
  MemoryPage,
  MemoryView,
  SearchResults,
  SpaceInvitation,
  SpaceInvitationList,
  SpaceList,
  SpaceView,
} from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { DocumentPanel } from '../components/document-panel.js';
import { ProposalList } from '../components/proposal-list.js';
import { toast } from '../components/toast.js';
import { t } from '../i18n.js';

/** A memory as the list shows it: listed (a MemoryView) or found (a MemoryHit, with its score). */
type Memory = Pick<MemoryView, 'id' | 'text' | 'tags' | 'space' | 'author'> &
  Partial<Pick<MemoryHit, 'score'>>;
type Space = SpaceView;

const peersOf = (space: Space): 'all' | string[] => space.policy.peers;

type Pending = { kind: 'delete'; memory: Memory } | { kind: 'leave' | 'purge'; space: Space };

/** Peers offer spaces while the page is open; this often the list is asked again. */
const INVITATIONS_REFRESH_MS = 10_000;
/** After a join, the space is looked at this often, this many times, until its memories are in. */
const ARRIVAL_POLL_MS = 1_000;
const ARRIVAL_POLLS = 30;

/** Memories: search, add, edit, delete, share/unshare, and spaces. */
export function MemoriesPage() {
  const [available, setAvailable] = useState(true);
  const [memories, setMemories] = useState<Memory[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [spaces, setSpaces] = useState<Space[]>([]);
  const [query, setQuery] = useState('');
  const [searching, setSearching] = useState(false);
  const [text, setText] = useState('');
  const [tags, setTags] = useState('');
  const [space, setSpace] = useState('');
  const [editing, setEditing] = useState<{ id: string; text: string } | undefined>();
  const [pending, setPending] = useState<Pending | undefined>();
  const [newSpace, setNewSpace] = useState('');
  const [invitations, setInvitations] = useState<SpaceInvitation[]>([]);

  const fail = (error: unknown) => {
    if (error instanceof ApiError && error.status === 404) setAvailable(false);
    else toast(t('common.error', { message: (error as Error).message }), 'error');
  };

  const load = async (more = false) => {
    try {
      const params = new URLSearchParams({ limit: '50' });
      if (more && cursor !== null) params.set('cursor', cursor);
      const page = await api<MemoryPage>(`/allerac/v1/memories?${params}`);
      setMemories(more ? [...memories, ...page.memories] : page.memories);
      setCursor(page.nextCursor);
      setSearching(false);
    } catch (error) {
      fail(error);
    }
  };
  const loadSpaces = async () => {
    try {
      const result = await api<SpaceList>('/allerac/v1/spaces');
      setSpaces(result.spaces);
    } catch {
      setSpaces([]);
    }
  };
  const loadInvitations = async () => {
    try {
      const result = await api<SpaceInvitationList>('/allerac/v1/spaces/invitations');
      setInvitations(result.invitations);
    } catch {
      // A member may not join spaces (403), and an older node has no invitations (404).
      setInvitations([]);
    }
  };
  useEffect(() => {
    void load();
    void loadSpaces();
    void loadInvitations();
    const timer = setInterval(() => void loadInvitations(), INVITATIONS_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  const answerInvitation = async (invitation: SpaceInvitation, answer: 'accept' | 'decline') => {
    try {
      await api(`/allerac/v1/spaces/invitations/${encodeURIComponent(invitation.name)}/${answer}`, {
        method: 'POST',
        body: {},
      });
      if (answer === 'accept') toast(t('memories.joined', { name: invitation.name }));
      await Promise.all([loadInvitations(), loadSpaces(), load()]);
      if (answer === 'accept' && invitation.memories !== null && invitation.memories > 0)
        void showArrivals(invitation.name, invitation.memories);
    } catch (error) {
      fail(error);
    }
  };

  /** The memories of a joined space arrive over the mesh: the list is reloaded once they are in. */
  const showArrivals = async (name: string, expected: number) => {
    for (let i = 0; i < ARRIVAL_POLLS; i++) {
      await new Promise((resolve) => setTimeout(resolve, ARRIVAL_POLL_MS));
      const params = new URLSearchParams({ space: name, limit: String(Math.min(expected, 500)) });
      const page = await api<MemoryPage>(`/allerac/v1/memories?${params}`).catch(() => undefined);
      if (page === undefined || page.memories.length >= Math.min(expected, 500)) break;
    }
    await Promise.all([load(), loadSpaces()]);
  };

  const search = async (event: Event) => {
    event.preventDefault();
    if (query.trim() === '') return void load();
    try {
      const result = await api<SearchResults>('/allerac/v1/memories/search', {
        body: { query, k: 20 },
      });
      setMemories(result.results);
      setSearching(true);
      setCursor(null);
    } catch (error) {
      fail(error);
    }
  };

  const add = async (event: Event) => {
    event.preventDefault();
    try {
      const tagList = tags
        .split(',')
        .map((tag) => tag.trim())
        .filter(Boolean);
      await api('/allerac/v1/memories', {
        body: { text, ...(tagList.length > 0 ? { tags: tagList } : {}), ...(space !== '' ? { space } : {}) },
      });
      setText('');
      setTags('');
      await load();
    } catch (error) {
      fail(error);
    }
  };

  const saveEdit = async () => {
    if (editing === undefined) return;
    try {
      await api(`/allerac/v1/memories/${encodeURIComponent(editing.id)}`, {
        method: 'PATCH',
        body: { text: editing.text },
      });
      setEditing(undefined);
      await load();
    } catch (error) {
      fail(error);
    }
  };

  const share = async (memory: Memory, target: string | null) => {
    try {
      if (target === null)
        await api(`/allerac/v1/memories/${encodeURIComponent(memory.id)}/unshare`, {
          method: 'POST',
          body: {},
        });
      else
        await api(`/allerac/v1/memories/${encodeURIComponent(memory.id)}/share`, { body: { space: target } });
      await load();
    } catch (error) {
      fail(error);
    }
  };

  const confirm = async () => {
    const action = pending;
    setPending(undefined);
    if (action === undefined) return;
    try {
      if (action.kind === 'delete')
        await api(`/allerac/v1/memories/${encodeURIComponent(action.memory.id)}`, { method: 'DELETE' });
      else
        await api(
          `/allerac/v1/spaces/${encodeURIComponent(action.space.name)}/${action.kind === 'leave' ? 'leave' : 'purge-history'}`,
          { method: 'POST', body: {} },
        );
      await Promise.all([load(), loadSpaces()]);
    } catch (error) {
      fail(error);
    }
  };

  const createSpace = async (event: Event) => {
    event.preventDefault();
    try {
      await api('/allerac/v1/spaces', { body: { name: newSpace, peers: 'all' } });
      setNewSpace('');
      await loadSpaces();
    } catch (error) {
      fail(error);
    }
  };

  return (
    <div class="page">
      <header class="page-head">
        <div>
          <h1 class="page-title">{t('memories.title')}</h1>
          <p class="muted">{t('memories.subtitle')}</p>
        </div>
      </header>
      {!available && (
        <p class="alert" role="status">
          {t('memories.unavailable')}
        </p>
      )}
      <div class="memories-layout">
        <div class="stack">
          <search>
            <form class="card row" onSubmit={(event) => void search(event)}>
              <label class="field grow">
                <span>{t('memories.search')}</span>
                <input type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
              </label>
              <button type="submit" class="btn">
                {t('memories.searchButton')}
              </button>
            </form>
          </search>
          <ProposalList spaces={spaces} onKept={() => void load()} />
          <form class="card stack" onSubmit={(event) => void add(event)}>
            <label class="field">
              <span>{t('memories.add')}</span>
              <textarea rows={2} required value={text} onInput={(e) => setText(e.currentTarget.value)} />
            </label>
            <div class="row">
              <label class="field grow">
                <span>{t('memories.tags')}</span>
                <input value={tags} onInput={(e) => setTags(e.currentTarget.value)} />
              </label>
              <label class="field">
                <span>{t('memories.space')}</span>
                <select value={space} onChange={(e) => setSpace(e.currentTarget.value)}>
                  <option value="">{t('memories.private')}</option>
                  {spaces.map((s) => (
                    <option key={s.name} value={s.name}>
                      {s.name}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit" class="btn btn-primary align-end">
                {t('memories.addButton')}
              </button>
            </div>
          </form>
          {available && memories.length === 0 && <p class="muted empty">{t('memories.empty')}</p>}
          <ul class="memory-list">
            {memories.map((memory) => (
              <li key={memory.id} class="card memory" data-testid="memory">
                <div class="row between">
                  <span class={memory.space ? 'badge badge-shared' : 'badge badge-private'}>
                    {memory.space
                      ? `🔗 ${t('memories.shared', { space: memory.space })}`
                      : `🔒 ${t('memories.private')}`}
                  </span>
                  {memory.score !== undefined && (
                    <span class="muted small">
                      {t('memories.score', { score: Math.round(memory.score * 100) })}
                    </span>
                  )}
                </div>
                {editing?.id === memory.id ? (
                  <div class="stack">
                    <label class="field">
                      <span>{t('common.edit')}</span>
                      <textarea
                        rows={3}
                        value={editing.text}
                        onInput={(e) => setEditing({ id: memory.id, text: e.currentTarget.value })}
                      />
                    </label>
                    <div class="row end">
                      <button type="button" class="btn" onClick={() => setEditing(undefined)}>
                        {t('common.cancel')}
                      </button>
                      <button type="button" class="btn btn-primary" onClick={() => void saveEdit()}>
                        {t('common.save')}
                      </button>
                    </div>
                  </div>
                ) : (
                  <p class="memory-text">{memory.text}</p>
                )}
                <div class="row between wrap">
                  <span class="muted small">
                    {memory.tags.map((tag) => (
                      <span key={tag} class="chip">
                        #{tag}
                      </span>
                    ))}
                    <span> · {memory.author}</span>
                  </span>
                  <span class="row">
                    {memory.space ? (
                      <button
                        type="button"
                        class="btn btn-ghost btn-small"
                        onClick={() => void share(memory, null)}
                      >
                        {t('memories.unshare')}
                      </button>
                    ) : (
                      spaces.length > 0 && (
                        <select
                          aria-label={t('memories.shareTo')}
                          class="btn-small"
                          value=""
                          onChange={(e) =>
                            e.currentTarget.value !== '' && void share(memory, e.currentTarget.value)
                          }
                        >
                          <option value="">{t('memories.share')}…</option>
                          {spaces.map((s) => (
                            <option key={s.name} value={s.name}>
                              {s.name}
                            </option>
                          ))}
                        </select>
                      )
                    )}
                    <button
                      type="button"
                      class="btn btn-ghost btn-small"
                      onClick={() => setEditing({ id: memory.id, text: memory.text })}
                    >
                      {t('common.edit')}
                    </button>
                    <button
                      type="button"
                      class="btn btn-ghost btn-small btn-danger-text"
                      onClick={() => setPending({ kind: 'delete', memory })}
                    >
                      {t('common.delete')}
                    </button>
                  </span>
                </div>
              </li>
            ))}
          </ul>
          {!searching && cursor !== null && (
            <button type="button" class="btn" onClick={() => void load(true)}>
              {t('memories.loadMore')}
            </button>
          )}
        </div>
        <aside class="card stack spaces">
          {invitations.length > 0 && (
            <section class="stack invitations" aria-labelledby="invitations-title">
              <h2 id="invitations-title">{t('memories.invitations')}</h2>
              <ul class="space-list">
                {invitations.map((invitation) => (
                  <li key={invitation.name} class="space" data-testid="invitation">
                    <div>
                      <strong>{invitation.name}</strong>
                      <div class="muted small">
                        {t('memories.invitationFrom', {
                          peers: invitation.peers.map((p) => p.name).join(', '),
                        })}
                        {invitation.memories !== null &&
                          ` · ${t('memories.invitationCount', { n: invitation.memories })}`}
                      </div>
                    </div>
                    <div class="row">
                      <button
                        type="button"
                        class="btn btn-primary btn-small"
                        onClick={() => void answerInvitation(invitation, 'accept')}
                      >
                        {t('memories.join')}
                      </button>
                      <button
                        type="button"
                        class="btn btn-small"
                        onClick={() => void answerInvitation(invitation, 'decline')}
                      >
                        {t('memories.decline')}
                      </button>
                    </div>
                  </li>
                ))}
              </ul>
            </section>
          )}
          <DocumentPanel spaces={spaces} onChange={() => void load()} />
          <h2>{t('memories.spaces')}</h2>
          <ul class="space-list">
            {spaces.map((s) => (
              <li key={s.name} class="space">
                <div>
                  <strong>{s.name}</strong>
                  <div class="muted small">
                    {peersOf(s) === 'all'
                      ? t('memories.policyAll')
                      : t('memories.policySome', { n: peersOf(s).length })}
                    {s.memories !== undefined && ` · ${s.memories}`}
                  </div>
                </div>
                <div class="row">
                  <button
                    type="button"
                    class="btn btn-small"
                    onClick={() => setPending({ kind: 'leave', space: s })}
                  >
                    {t('memories.leave')}
                  </button>
                  <button
                    type="button"
                    class="btn btn-small btn-danger-text"
                    onClick={() => setPending({ kind: 'purge', space: s })}
                  >
                    {t('memories.purge')}
                  </button>
                </div>
              </li>
            ))}
          </ul>
          <form class="stack" onSubmit={(event) => void createSpace(event)}>
            <label class="field">
              <span>{t('memories.spaceName')}</span>
              <input
                value={newSpace}
                required
                pattern="[\w.-]{1,64}"
                onInput={(e) => setNewSpace(e.currentTarget.value)}
              />
            </label>
            <button type="submit" class="btn">
              {t('memories.createSpace')}
            </button>
          </form>
        </aside>
      </div>
      {pending !== undefined && (
        <ConfirmDialog
          message={
            pending.kind === 'delete'
              ? t('memories.deleteConfirm')
              : t(pending.kind === 'leave' ? 'memories.leaveConfirm' : 'memories.purgeConfirm', {
                  name: pending.space.name,
                })
          }
          confirmLabel={
            pending.kind === 'delete'
              ? t('common.delete')
              : pending.kind === 'leave'
                ? t('memories.leave')
                : t('memories.purge')
          }
          danger
          onCancel={() => setPending(undefined)}
          onConfirm={() => void confirm()}
        />
      )}
    </div>
  );
}
