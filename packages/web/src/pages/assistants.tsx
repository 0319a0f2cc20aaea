/**
 * Assistants: the home's agents (issue #18), each a model `agent/<slug>` to every app. Everyone
 * sees them; admins create, edit and delete them (deleting a built-in restores its original).
 */
import type { AgentList, AgentUpdateBody, AgentView, NewAgentBody } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfirmDialog } from '../components/confirm.js';
import { toast } from '../components/toast.js';
import { t } from '../i18n.js';
import { authState } from '../session.js';
import { useSignal } from '../signal.js';

/** What the form edits, as text fields. */
interface Draft {
  slug: string;
  name: string;
  description: string;
  icon: string;
  systemPrompt: string;
  preferred: string;
  temperature: string;
  spaces: string;
  memoryWrite: boolean;
  tools: string[];
  domains: string;
  allowActions: boolean;
}

/**
 * The tools this release's nodes run (packages/node/src/tools, home-assistant, documents). An
 * agent may name others (a newer node's); the form keeps those as they are.
 */
const KNOWN_TOOLS = ['ha.list_devices', 'ha.get_state', 'ha.call_service', 'documents.search'] as const;

const EMPTY: Draft = {
  slug: '',
  name: '',
  description: '',
  icon: '🤖',
  systemPrompt: '',
  preferred: '',
  temperature: '',
  spaces: '',
  memoryWrite: false,
  tools: [],
  domains: '',
  allowActions: false,
};

const draftOf = (agent: AgentView): Draft => ({
  slug: agent.slug,
  name: agent.name,
  description: agent.description,
  icon: agent.icon,
  systemPrompt: agent.systemPrompt,
  preferred: agent.models.preferred.join('\n'),
  temperature: agent.sampling.temperature === undefined ? '' : String(agent.sampling.temperature),
  spaces: agent.memory.spaces.join(', '),
  memoryWrite: agent.memory.write,
  tools: agent.tools.allowed,
  domains: agent.tools.homeAssistantDomains.join(', '),
  allowActions: agent.tools.allowActions,
});

/** A new agent's tool-loop step limit (the built-ins use 6 to 8). */
const DEFAULT_MAX_STEPS = 6;

const list = (text: string, separator: RegExp) =>
  text
    .split(separator)
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** The fields the form changes, over what the agent had (the model fallback and step limit stay). */
function changeOf(draft: Draft, base: AgentView | undefined): AgentUpdateBody {
  const { temperature: _old, ...sampling } = base?.sampling ?? {};
  const temperature = draft.temperature.trim() === '' ? undefined : Number(draft.temperature);
  return {
    name: draft.name,
    description: draft.description,
    icon: draft.icon,
    systemPrompt: draft.systemPrompt,
    models: {
      preferred: list(draft.preferred, /\n/),
      fallback: base?.models.fallback ?? { capabilities: ['completion'], minParamsB: 0 },
    },
    memory: { spaces: list(draft.spaces, /,/), write: draft.memoryWrite },
    tools: {
      allowed: draft.tools,
      homeAssistantDomains: list(draft.domains, /,/),
      allowActions: draft.allowActions,
      maxSteps: base?.tools.maxSteps ?? DEFAULT_MAX_STEPS,
    },
    sampling: temperature === undefined ? sampling : { ...sampling, temperature },
  };
}

function AgentForm(props: { agent: AgentView | undefined; onDone: (saved: AgentView | undefined) => void }) {
  const [draft, setDraft] = useState<Draft>(props.agent === undefined ? EMPTY : draftOf(props.agent));
  const field = (key: keyof Draft) => (event: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) =>
    setDraft({ ...draft, [key]: event.currentTarget.value });
  const flag = (key: 'memoryWrite' | 'allowActions') => (event: { currentTarget: HTMLInputElement }) =>
    setDraft({ ...draft, [key]: event.currentTarget.checked });
  const toggleTool = (tool: string, on: boolean) =>
    setDraft({ ...draft, tools: on ? [...draft.tools, tool] : draft.tools.filter((name) => name !== tool) });
  const tools = [
    ...KNOWN_TOOLS,
    ...draft.tools.filter((name) => !(KNOWN_TOOLS as readonly string[]).includes(name)),
  ];
  const save = async (event: Event) => {
    event.preventDefault();
    const change = changeOf(draft, props.agent);
    try {
      const saved =
        props.agent === undefined
          ? await api<AgentView>('/allerac/v1/agents', {
              body: { ...change, slug: draft.slug, name: draft.name } satisfies NewAgentBody,
            })
          : await api<AgentView>(`/allerac/v1/agents/${encodeURIComponent(props.agent.slug)}`, {
              method: 'PUT',
              body: change,
            });
      toast(t('assistants.saved', { name: saved.name }));
      props.onDone(saved);
    } catch (error) {
      toast(t('common.error', { message: (error as Error).message }), 'error');
    }
  };
  return (
    <form class="card stack" data-testid="agent-form" onSubmit={(event) => void save(event)}>
      <div class="row wrap">
        {props.agent === undefined && (
          <label class="field">
            <span>{t('assistants.slug')}</span>
            <input
              name="slug"
              required
              pattern="[a-z0-9][a-z0-9\-]{0,47}"
              value={draft.slug}
              onInput={field('slug')}
            />
          </label>
        )}
        <label class="field grow">
          <span>{t('assistants.name')}</span>
          <input name="name" required maxLength={80} value={draft.name} onInput={field('name')} />
        </label>
        <label class="field">
          <span>{t('assistants.icon')}</span>
          <input name="icon" maxLength={16} size={4} value={draft.icon} onInput={field('icon')} />
        </label>
      </div>
      <label class="field">
        <span>{t('assistants.description')}</span>
        <input name="description" maxLength={500} value={draft.description} onInput={field('description')} />
      </label>
      <label class="field">
        <span>{t('assistants.prompt')}</span>
        <textarea name="systemPrompt" rows={6} value={draft.systemPrompt} onInput={field('systemPrompt')} />
      </label>
      <div class="row wrap">
        <label class="field grow">
          <span>{t('assistants.models')}</span>
          <textarea name="preferred" rows={3} value={draft.preferred} onInput={field('preferred')} />
        </label>
        <label class="field">
          <span>{t('assistants.temperature')}</span>
          <input
            name="temperature"
            type="number"
            min={0}
            max={2}
            step={0.1}
            value={draft.temperature}
            onInput={field('temperature')}
          />
        </label>
      </div>
      <label class="field">
        <span>{t('assistants.spaces')}</span>
        <input name="spaces" value={draft.spaces} onInput={field('spaces')} />
      </label>
      <label class="switch">
        <input
          type="checkbox"
          name="memoryWrite"
          checked={draft.memoryWrite}
          onChange={flag('memoryWrite')}
        />
        <span>{t('assistants.memoryWrite')}</span>
      </label>
      <fieldset class="stack" data-testid="agent-tools">
        <legend>{t('assistants.tools')}</legend>
        <div class="row wrap">
          {tools.map((tool) => (
            <label class={draft.tools.includes(tool) ? 'choice selected' : 'choice'} key={tool}>
              <input
                type="checkbox"
                name={`tool-${tool}`}
                checked={draft.tools.includes(tool)}
                onChange={(event) => toggleTool(tool, event.currentTarget.checked)}
              />
              <span>
                <code>{tool}</code>
              </span>
            </label>
          ))}
        </div>
        <label class="field">
          <span>{t('assistants.domains')}</span>
          <input name="domains" value={draft.domains} onInput={field('domains')} />
        </label>
        <label class="switch">
          <input
            type="checkbox"
            name="allowActions"
            checked={draft.allowActions}
            onChange={flag('allowActions')}
          />
          <span>{t('assistants.allowActions')}</span>
        </label>
      </fieldset>
      <div class="row end">
        <button type="button" class="btn" onClick={() => props.onDone(undefined)}>
          {t('common.cancel')}
        </button>
        <button type="submit" class="btn btn-primary">
          {t('common.save')}
        </button>
      </div>
    </form>
  );
}

/** The Assistants page. */
export function AssistantsPage() {
  const state = useSignal(authState);
  const isAdmin = state?.user?.role === 'admin';
  const [agents, setAgents] = useState<AgentView[]>([]);
  // `null`: the form for a new assistant; an agent: its edit form.
  const [editing, setEditing] = useState<AgentView | null | undefined>();
  const [removing, setRemoving] = useState<AgentView | undefined>();
  const load = () =>
    api<AgentList>('/allerac/v1/agents')
      .then((r) => setAgents(r.agents))
      .catch((error: Error) => toast(t('common.error', { message: error.message }), 'error'));
  useEffect(() => void load(), []);

  const remove = async (agent: AgentView) => {
    setRemoving(undefined);
    try {
      await api(`/allerac/v1/agents/${encodeURIComponent(agent.slug)}`, { method: 'DELETE' });
      toast(t(agent.builtIn ? 'assistants.restored' : 'assistants.deleted', { name: agent.name }));
      await load();
    } catch (error) {
      toast(t('common.error', { message: (error as Error).message }), 'error');
    }
  };

  return (
    <div class="page">
      <header class="page-head">
        <div>
          <h1 class="page-title">{t('assistants.title')}</h1>
          <p class="muted">{t('assistants.intro')}</p>
        </div>
        {isAdmin && editing === undefined && (
          <button type="button" class="btn btn-primary" onClick={() => setEditing(null)}>
            + {t('assistants.new')}
          </button>
        )}
      </header>
      {editing !== undefined && (
        <AgentForm
          key={editing?.slug ?? 'new'}
          agent={editing ?? undefined}
          onDone={(saved) => {
            setEditing(undefined);
            if (saved !== undefined) void load();
          }}
        />
      )}
      <ul class="agent-list" data-testid="agent-list">
        {agents.map((agent) => (
          <li key={agent.slug} class="card stack" data-testid={`agent-${agent.slug}`}>
            <div class="row wrap">
              <strong class="grow">
                {agent.icon} {agent.name} <code class="muted small">agent/{agent.slug}</code>
              </strong>
              {agent.builtIn && <span class="badge">{t('assistants.builtIn')}</span>}
              {isAdmin && (
                <>
                  <button type="button" class="btn btn-small" onClick={() => setEditing(agent)}>
                    {t('common.edit')}
                  </button>
                  {(!agent.builtIn || agent.edited === true) && (
                    <button type="button" class="btn btn-small" onClick={() => setRemoving(agent)}>
                      {t(agent.builtIn ? 'assistants.restore' : 'common.delete')}
                    </button>
                  )}
                </>
              )}
            </div>
            {agent.description !== '' && <p class="muted">{agent.description}</p>}
          </li>
        ))}
      </ul>
      {removing !== undefined && (
        <ConfirmDialog
          message={t(removing.builtIn ? 'assistants.confirmRestore' : 'assistants.confirmDelete', {
            name: removing.name,
          })}
          confirmLabel={t(removing.builtIn ? 'assistants.restore' : 'common.delete')}
          danger={!removing.builtIn}
          onConfirm={() => void remove(removing)}
          onCancel={() => setRemoving(undefined)}
        />
      )}
    </div>
  );
}
