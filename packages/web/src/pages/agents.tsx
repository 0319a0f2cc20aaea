import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, formatBytes, optionalApi } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { toast } from '../components/toast.js';
import { type MessageKey, t } from '../i18n.js';
import { useLiveEvents } from '../live.js';

/** A peer as GET /allerac/v1/peers describes it (fields beyond the contract are optional). */
interface Agent {
  id?: string;
  /** Unique in the home: a name two nodes share comes with a short suffix of the id. */
  name: string;
  /** True when another node publishes the same name; the card then asks for a rename. */
  nameClash?: boolean;
  status?: string;
  version?: string;
  models?: Array<string | { name: string; loaded?: boolean }>;
  loadedModels?: string[];
  hardware?: {
    cpu?: string;
    cores?: number;
    ramTotal?: number;
    ramFree?: number;
    gpus?: Array<{ model?: string; name?: string; vram?: number }>;
  } & Record<string, unknown>;
  load?: { activeTasks?: number; queued?: number; queue?: number } & Record<string, unknown>;
  specializations?: string[];
  self?: boolean;
}

interface NodeInfo {
  name: string;
  version: string;
  backend: { state: string };
  models: string[];
  specializations?: string[];
  hardware?: Agent['hardware'];
  load?: Agent['load'];
}

const modelName = (model: string | { name: string }) => (typeof model === 'string' ? model : model.name);

/** This node's standing with the home's mesh key, as the public /health reports it. */
type MeshKeyState = 'current' | 'joining' | 'out-of-date' | 'removed' | 'stopped';

/** Agents: this node and every peer, live, with pairing. */
export function AgentsPage() {
  const [self, setSelf] = useState<NodeInfo | undefined>();
  const [peers, setPeers] = useState<Agent[] | undefined>();
  const [code, setCode] = useState<string | null | undefined>();
  const [removing, setRemoving] = useState<Agent | undefined>();
  const [meshKey, setMeshKey] = useState<MeshKeyState | undefined>();

  useEffect(() => {
    void api<NodeInfo>('/allerac/v1/node')
      .then(setSelf)
      .catch(() => {});
    void api<Agent[]>('/allerac/v1/peers')
      .then(setPeers)
      .catch(() => setPeers([]));
    void api<{ mesh?: { state?: MeshKeyState } }>('/health')
      .then((health) => setMeshKey(health.mesh?.state))
      .catch(() => {});
  }, []);
  useLiveEvents({
    peers: (data) => setPeers(Array.isArray(data) ? (data as Agent[]) : []),
    node: (data) => setSelf(data as NodeInfo),
  });

  const showCode = async () => {
    const result = await optionalApi<{ code: string }>('/allerac/v1/pairing/code').catch(() => undefined);
    setCode(result?.code ?? null);
  };

  const remove = async (agent: Agent) => {
    setRemoving(undefined);
    try {
      await api(`/allerac/v1/peers/${encodeURIComponent(agent.id ?? agent.name)}`, { method: 'DELETE' });
      setPeers((list) => list?.filter((p) => p !== agent));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) toast(t('agents.pairingUnavailable'), 'error');
      else toast(t('common.error', { message: (error as Error).message }), 'error');
    }
  };

  const selfAgent: Agent | undefined =
    self === undefined
      ? undefined
      : {
          name: self.name,
          status: self.backend.state === 'up' ? 'online' : 'degraded',
          version: self.version,
          models: self.models,
          hardware: self.hardware,
          load: self.load,
          specializations: self.specializations,
          self: true,
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
        {selfAgent !== undefined && <AgentCard agent={selfAgent} />}
        {peers?.map((peer) => (
          <AgentCard key={peer.id ?? peer.name} agent={peer} onRemove={() => setRemoving(peer)} />
        ))}
      </div>
      {peers !== undefined && peers.length === 0 && <p class="muted empty">{t('agents.noPeers')}</p>}
      <section class="card">
        <h2>{t('agents.pairing')}</h2>
        {code === undefined && (
          <button type="button" class="btn" onClick={() => void showCode()}>
            {t('agents.showCode')}
          </button>
        )}
        {code === null && <p class="alert">{t('agents.pairingUnavailable')}</p>}
        {typeof code === 'string' && (
          <pre class="join-code" title={t('setup.join.code')}>
            {code}
          </pre>
        )}
      </section>
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

function AgentCard(props: { agent: Agent; onRemove?: () => void }) {
  const { agent } = props;
  const status = agent.status ?? 'unknown';
  const loaded = new Set(
    agent.loadedModels ??
      (agent.models ?? []).filter((m) => typeof m !== 'string' && m.loaded === true).map(modelName),
  );
  const hw = agent.hardware;
  const active = agent.load?.activeTasks ?? 0;
  const queued = agent.load?.queued ?? agent.load?.queue ?? 0;
  return (
    <article class="card agent-card" data-testid="agent-card" data-name={agent.name}>
      <header class="row between">
        <div>
          <h2 class="agent-name">{agent.name}</h2>
          {agent.self === true && <span class="badge">{t('agents.thisNode')}</span>}
        </div>
        <span class={`status status-${status}`}>
          <span class="dot" aria-hidden="true" />
          {status}
        </span>
      </header>
      {agent.nameClash === true && (
        <p class="alert alert-warn" data-testid="name-clash">
          {t('agents.nameClash')}
        </p>
      )}
      <dl class="facts">
        <dt>{t('agents.hardware')}</dt>
        <dd>
          {hw === undefined
            ? '—'
            : [
                hw.cpu,
                hw.cores !== undefined ? `${hw.cores} cores` : undefined,
                hw.ramTotal !== undefined ? `${formatBytes(hw.ramTotal)} RAM` : undefined,
                ...(hw.gpus ?? []).map((g) => g.model ?? g.name),
              ]
                .filter(Boolean)
                .join(' · ')}
        </dd>
        <dt>{t('agents.load')}</dt>
        <dd>
          <meter min={0} max={8} value={active} aria-label={t('agents.load')} />{' '}
          {t('agents.tasks', { active, queued })}
        </dd>
        <dt>{t('agents.specializations')}</dt>
        <dd>
          {(agent.specializations ?? []).length === 0
            ? '—'
            : agent.specializations!.map((s) => (
                <span key={s} class="chip">
                  {t(`spec.${s}` as MessageKey) ?? s}
                </span>
              ))}
        </dd>
        <dt>{t('agents.models')}</dt>
        <dd>
          {(agent.models ?? []).map((m) => (
            <span key={modelName(m)} class={loaded.has(modelName(m)) ? 'chip chip-on' : 'chip'}>
              {modelName(m)}
              {loaded.has(modelName(m)) ? ` · ${t('agents.loaded')}` : ''}
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
