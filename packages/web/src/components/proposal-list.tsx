/**
 * The Memories page's "Proposed" list: what agents proposed to remember from the user's chats,
 * each kept (as a private memory, or in a chosen space) or discarded. Hidden when there is none.
 */
import type { MemoryProposalList, MemoryProposalView, SpaceView } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { toast } from './toast.js';

/** The pending proposals; `onKept` runs after one became a memory. */
export function ProposalList(props: { spaces: SpaceView[]; onKept: () => void }) {
  const [proposals, setProposals] = useState<MemoryProposalView[]>([]);
  /** The space chosen per proposal; absent: private. */
  const [targets, setTargets] = useState<Record<string, string>>({});

  const load = async () => {
    try {
      setProposals((await api<MemoryProposalList>('/allerac/v1/memories/proposals')).proposals);
    } catch {
      // An older node has no proposals: the list stays hidden.
      setProposals([]);
    }
  };
  useEffect(() => void load(), []);

  const act = async (proposal: MemoryProposalView, action: 'keep' | 'discard') => {
    try {
      const space = targets[proposal.id];
      await api(`/allerac/v1/memories/proposals/${encodeURIComponent(proposal.id)}/${action}`, {
        method: 'POST',
        body: action === 'keep' && space !== undefined && space !== '' ? { space } : {},
      });
      setProposals((current) => current.filter((p) => p.id !== proposal.id));
      if (action === 'keep') {
        toast(t('memories.kept'));
        props.onKept();
      }
    } catch (error) {
      toast(t('common.error', { message: (error as Error).message }), 'error');
      await load();
    }
  };

  if (proposals.length === 0) return null;
  return (
    <section class="card stack proposals" aria-labelledby="proposals-title" data-testid="proposals">
      <div>
        <h2 id="proposals-title">{t('memories.proposed')}</h2>
        <p class="muted small">{t('memories.proposedHint')}</p>
      </div>
      <ul class="memory-list">
        {proposals.map((proposal) => (
          <li key={proposal.id} class="memory proposal" data-testid="proposal">
            <p class="memory-text">{proposal.text}</p>
            <div class="row between wrap">
              <span class="muted small">{t('memories.proposedBy', { agent: proposal.agent })}</span>
              <span class="row">
                {props.spaces.length > 0 && (
                  <select
                    aria-label={t('memories.keepIn')}
                    class="btn-small"
                    value={targets[proposal.id] ?? ''}
                    onChange={(e) => setTargets({ ...targets, [proposal.id]: e.currentTarget.value })}
                  >
                    <option value="">{t('memories.private')}</option>
                    {props.spaces.map((s) => (
                      <option key={s.name} value={s.name}>
                        {s.name}
                      </option>
                    ))}
                  </select>
                )}
                <button
                  type="button"
                  class="btn btn-primary btn-small"
                  onClick={() => void act(proposal, 'keep')}
                >
                  {t('memories.keep')}
                </button>
                <button
                  type="button"
                  class="btn btn-ghost btn-small"
                  onClick={() => void act(proposal, 'discard')}
                >
                  {t('memories.discard')}
                </button>
              </span>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
