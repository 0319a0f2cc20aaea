import type { Hardware, Health, MeshKeyState, NodeInfo, PeerList, PeerSummary } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, formatBytes } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { toast } from '../components/toast.js';
import { type MessageKey, t } from '../i18n.js';
import { useLiveEvents } from '../live.js';
import { InviteMachine, JoinHome } from './agents-pairing.js';
import { SleepingMachines } from './agents-sleeping.js';

/** One card: a peer as GET /allerac/v1/peers lists it, or this node as GET /allerac/v1/node describes it. */
type AgentView = Pick<
  NodeInfo,
  'name' | 'models' | 'loadedModels' | 'hardware' | 'load' | 'specializations'
> & {
  status: PeerSummary['status'] | 'degraded';
  nameClash: boolean;
  self: boolean;
};

const peerView = (peer: PeerSummary): AgentView => ({ ...peer, self: false });

const selfView = (node: NodeInfo): AgentView => ({
  name: node.name,
  status: node.backend.state === 'up' ? 'online' : 'degraded',
  nameClash: false,
  models: node.models,
  loadedModels: node.loadedModels,
  hardware: node.hardware,
  load: node.load,
  specializations: node.specializations,
  self: true,
});

/** The hardware line of a card: CPU, cores, RAM, GPUs. */
function hardwareLine(hw: Hardware | null): string {
  if (hw === null) return '—';
  return [
    hw.cpuModel,
    `${hw.cores} cores`,
    `${formatBytes(hw.ramTotal)} RAM`,
    ...hw.gpus.map((gpu) => gpu.model),
  ]
    .filter((part) => part !== '')
    .join(' · ');
}

/** Agents: this node and every peer, live, with pairing. */
export function AgentsPage() {
  const [self, setSelf] = useState<NodeInfo | undefined>();
  const [peers, setPeers] = useState<PeerList | undefined>();
  const [removing, setRemoving] = useState<PeerSummary | undefined>();
  const [meshKey, setMeshKey] = useState<MeshKeyState | undefined>();

  useEffect(() => {
    void api<NodeInfo>('/allerac/v1/node')
      .then(setSelf)
      .catch(() => {});
    void api<PeerList>('/allerac/v1/peers')
      .then(setPeers)
      .catch(() => setPeers([]));
    void api<Health>('/health')
      .then((health) => setMeshKey(health.mesh.state))
      .catch(() => {});
  }, []);
  useLiveEvents({ peers: setPeers, node: setSelf });

  const remove = async (peer: PeerSummary) => {
    setRemoving(undefined);
    try {
      await api(`/allerac/v1/peers/${encodeURIComponent(peer.id)}`, { method: 'DELETE' });
      setPeers((list) => list?.filter((p) => p.id !== peer.id));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) toast(t('agents.pairingUnavailable'), 'error');
      else toast(t('common.error', { message: (error as Error).message }), 'error');
    }
  };

  return (
    <div class="page">
      <header class="page-head">
        <div>
          <h1 class="page-title">{t('agents.title')}</h1>
          <p class="muted">{t('agents.subtitle')}</p>
        </div>
      </header>
      {(meshKey === 'out-of-date' || meshKey === 'removed') && (
        <p class="alert alert-error" role="alert" data-testid="mesh-key-alert">
          {t(meshKey === 'removed' ? 'agents.meshRemoved' : 'agents.meshOutOfDate')}
        </p>
      )}
      <div class="agents-grid">
        {self !== undefined && <AgentCard agent={selfView(self)} />}
        {peers?.map((peer) => (
          <AgentCard key={peer.id} agent={peerView(peer)} onRemove={() => setRemoving(peer)} />
        ))}
      </div>
      <SleepingMachines peers={peers} />
      {peers !== undefined && peers.length === 0 && <p class="muted empty">{t('agents.noPeers')}</p>}
      <div class="pairing-grid">
        <InviteMachine />
        <JoinHome />
      </div>
      {removing !== undefined && (
        <ConfirmDialog
          message={t('agents.removeConfirm', { name: removing.name })}
          confirmLabel={t('agents.remove')}
          danger
          onCancel={() => setRemoving(undefined)}
          onConfirm={() => void remove(removing)}
        />
      )}
    </div>
  );
}

function AgentCard(props: { agent: AgentView; onRemove?: () => void }) {
  const { agent } = props;
  const loaded = new Set(agent.loadedModels);
  const active = agent.load?.activeTasks ?? 0;
  const queued = agent.load?.queueDepth ?? 0;
  const slots = agent.load?.slots ?? 0;
  return (
    <article class="card agent-card" data-testid="agent-card" data-name={agent.name}>
      <header class="row between">
        <div>
          <h2 class="agent-name">{agent.name}</h2>
          {agent.self && <span class="badge">{t('agents.thisNode')}</span>}
        </div>
        <span class={`status status-${agent.status}`}>
          <span class="dot" aria-hidden="true" />
          {agent.status}
        </span>
      </header>
      {agent.nameClash && (
        <p class="alert alert-warn" data-testid="name-clash">
          {t('agents.nameClash')}
        </p>
      )}
      <dl class="facts">
        <dt>{t('agents.hardware')}</dt>
        <dd data-testid="agent-hardware">{hardwareLine(agent.hardware)}</dd>
        <dt>{t('agents.load')}</dt>
        <dd>
          <meter min={0} max={Math.max(slots, 1)} value={active} aria-label={t('agents.load')} />{' '}
          {t('agents.tasks', { active, slots, queued })}
        </dd>
        <dt>{t('agents.specializations')}</dt>
        <dd>
          {agent.specializations.length === 0
            ? '—'
            : agent.specializations.map((s) => (
                <span key={s} class="chip">
                  {t(`spec.${s}` as MessageKey) ?? s}
                </span>
              ))}
        </dd>
        <dt>{t('agents.models')}</dt>
        <dd>
          {agent.models.map((model) => (
            <span key={model} class={loaded.has(model) ? 'chip chip-on' : 'chip'}>
              {model}
              {loaded.has(model) ? ` · ${t('agents.loaded')}` : ''}
            </span>
          ))}
        </dd>
      </dl>
      {props.onRemove !== undefined && (
        <div class="row end">
          <button type="button" class="btn btn-ghost btn-danger-text" onClick={props.onRemove}>
            {t('agents.remove')}
          </button>
        </div>
      )}
    </article>
  );
}
