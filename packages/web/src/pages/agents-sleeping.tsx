import type { PeerList, PeerWoken, SleepingPeer, SleepingPeerList } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import { toast } from '../components/toast.js';
import { formatRelative } from '../format.js';
import { t } from '../i18n.js';

/**
 * Paired machines that are asleep, each with a Wake button. The list is read again whenever the
 * live peer list changes: a machine that wakes joins the peers and leaves this list.
 */
export function SleepingMachines(props: { peers: PeerList | undefined }) {
  const [sleeping, setSleeping] = useState<SleepingPeerList>([]);
  const [waking, setWaking] = useState<string | undefined>();

  // Read again whenever the live peer list changes: a machine that woke has left this list.
  useEffect(() => {
    void api<SleepingPeerList>('/allerac/v1/peers/sleeping')
      .then(setSleeping)
      .catch(() => setSleeping([]));
  }, [props.peers]);

  const wake = async (peer: SleepingPeer) => {
    setWaking(peer.id);
    try {
      const woken = await api<PeerWoken>(`/allerac/v1/peers/${encodeURIComponent(peer.id)}/wake`, {
        method: 'POST',
        body: {},
      });
      toast(t('agents.woken', { name: woken.name }), 'info');
      setSleeping((list) => list.map((p) => (p.id === peer.id ? { ...p, wokenAt: woken.at } : p)));
    } catch (error) {
      if (error instanceof ApiError && error.status === 429)
        toast(t('agents.wakeRateLimited', { name: peer.name }), 'error');
      else toast(t('common.error', { message: (error as Error).message }), 'error');
    } finally {
      setWaking(undefined);
    }
  };

  if (sleeping.length === 0) return null;
  return (
    <div class="agents-grid" data-testid="sleeping-machines">
      {sleeping.map((peer) => (
        <article key={peer.id} class="card agent-card" data-testid="sleeping-card" data-name={peer.name}>
          <header class="row between">
            <div>
              <h2 class="agent-name">{peer.name}</h2>
              {peer.preferredWhenOn && <span class="badge">{t('agents.preferred')}</span>}
            </div>
            <span class="status status-gone">
              <span class="dot" aria-hidden="true" />
              {t('agents.asleep')}
            </span>
          </header>
          <p class="muted">{t('agents.asleepHint', { when: formatRelative(peer.lastSeen) })}</p>
          <dl class="facts">
            <dt>{t('agents.models')}</dt>
            <dd>
              {peer.models.map((model) => (
                <span key={model} class="chip">
                  {model}
                </span>
              ))}
            </dd>
          </dl>
          <div class="row end">
            <button
              type="button"
              class="btn"
              data-testid="wake-button"
              disabled={!peer.wakeable || waking === peer.id}
              title={peer.wakeable ? undefined : t('agents.notWakeable')}
              onClick={() => void wake(peer)}
            >
              {t('agents.wake')}
            </button>
          </div>
        </article>
      ))}
    </div>
  );
}
