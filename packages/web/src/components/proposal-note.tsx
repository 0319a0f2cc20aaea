/** The note under an answer whose message an agent proposed memories from, linking to their review. */
import { t } from '../i18n.js';
import { navigate } from '../router.js';

/** "1 memory proposed — review", the review being the Memories page's Proposed list. */
export function ProposalNote(props: { count: number }) {
  return (
    <p class="memory-note muted small" data-testid="proposal-note">
      {props.count === 1 ? t('chat.proposedOne') : t('chat.proposedMany', { n: props.count })}
      {' — '}
      <a
        href="/memories"
        onClick={(event) => {
          event.preventDefault();
          navigate('/memories');
        }}
      >
        {t('chat.review')}
      </a>
    </p>
  );
}
