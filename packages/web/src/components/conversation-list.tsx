import type { ConversationHeader } from '@allerac/node';
import { useState } from 'preact/hooks';
import { formatDateTime } from '../format.js';
import { t } from '../i18n.js';
import { ConfirmDialog } from './confirm.js';

/** A small stroked icon, drawn like the navigation's (no emoji: fonts may lack them). */
function Icon(props: { d: string }) {
  return (
    <svg aria-hidden="true" class="nav-icon" viewBox="0 0 24 24" width="16" height="16">
      <path d={props.d} />
    </svg>
  );
}
const PENCIL = 'M4 20h4L19 9l-4-4L4 16zM13 7l4 4';
const TRASH = 'M4 7h16M10 7V4h4v3M6 7l1 13h10l1-13M10 11v6M14 11v6';

/** One conversation: open it, rename it in place, or delete it after a confirmation. */
function ConversationItem(props: {
  conversation: ConversationHeader;
  active: boolean;
  onOpen: () => void;
  onRename: (title: string) => Promise<void>;
  onDelete: () => void;
}) {
  const { conversation } = props;
  const title = conversation.title || t('chat.untitled');
  const [editing, setEditing] = useState<string | undefined>();

  if (editing !== undefined) {
    return (
      <li>
        <form
          class="conversation-rename"
          onSubmit={(event) => {
            event.preventDefault();
            const next = editing.trim();
            if (next === '') return;
            void props.onRename(next).then(() => setEditing(undefined));
          }}
        >
          <input
            aria-label={t('chat.newTitle')}
            value={editing}
            maxLength={200}
            ref={(el) => el?.focus()}
            onInput={(e) => setEditing(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') setEditing(undefined);
            }}
          />
          <button type="submit" class="btn btn-small btn-primary" disabled={editing.trim() === ''}>
            {t('common.save')}
          </button>
          <button type="button" class="btn btn-small" onClick={() => setEditing(undefined)}>
            {t('common.cancel')}
          </button>
        </form>
      </li>
    );
  }
  return (
    <li class="conversation-item" data-testid="conversation" data-id={conversation.id}>
      <button
        type="button"
        class={props.active ? 'conversation active' : 'conversation'}
        aria-current={props.active ? 'true' : undefined}
        onClick={props.onOpen}
      >
        <span class="ellipsis">{title}</span>
        <span class="muted small">{formatDateTime(conversation.updatedAt)}</span>
      </button>
      <div class="conversation-actions">
        <button
          type="button"
          class="btn btn-ghost btn-small conversation-action"
          aria-label={t('chat.renameOf', { title })}
          title={t('chat.rename')}
          onClick={() => setEditing(conversation.title)}
        >
          <Icon d={PENCIL} />
        </button>
        <button
          type="button"
          class="btn btn-ghost btn-small conversation-action"
          aria-label={t('chat.deleteOf', { title })}
          title={t('common.delete')}
          onClick={props.onDelete}
        >
          <Icon d={TRASH} />
        </button>
      </div>
    </li>
  );
}

/** The conversation history: search, the "From other apps" filter, and each conversation. */
export function ConversationList(props: {
  conversations: ConversationHeader[];
  activeId: string | undefined;
  query: string;
  onQuery: (query: string) => void;
  fromOtherApps: boolean;
  onFromOtherApps: (on: boolean) => void;
  onOpen: (id: string) => void;
  onRename: (id: string, title: string) => Promise<void>;
  onDelete: (id: string) => Promise<void>;
}) {
  const [deleting, setDeleting] = useState<ConversationHeader | undefined>();
  const filtered = props.query.trim() !== '' || props.fromOtherApps;
  return (
    <>
      <input
        type="search"
        class="conversation-search"
        aria-label={t('chat.search')}
        placeholder={t('chat.search')}
        value={props.query}
        onInput={(e) => props.onQuery(e.currentTarget.value)}
      />
      <label class="conversation-filter small">
        <input
          type="checkbox"
          checked={props.fromOtherApps}
          onChange={(e) => props.onFromOtherApps(e.currentTarget.checked)}
        />
        <span>{t('chat.fromOtherApps')}</span>
      </label>
      {props.conversations.length === 0 && (
        <p class="muted small">{filtered ? t('chat.noMatches') : t('chat.noHistory')}</p>
      )}
      <ul class="conversation-list">
        {props.conversations.map((c) => (
          <ConversationItem
            key={c.id}
            conversation={c}
            active={c.id === props.activeId}
            onOpen={() => props.onOpen(c.id)}
            onRename={(title) => props.onRename(c.id, title)}
            onDelete={() => setDeleting(c)}
          />
        ))}
      </ul>
      {deleting !== undefined && (
        <ConfirmDialog
          message={t('chat.deleteConfirm', { title: deleting.title || t('chat.untitled') })}
          confirmLabel={t('common.delete')}
          danger
          onCancel={() => setDeleting(undefined)}
          onConfirm={() => {
            const id = deleting.id;
            setDeleting(undefined);
            void props.onDelete(id);
          }}
        />
      )}
    </>
  );
}
