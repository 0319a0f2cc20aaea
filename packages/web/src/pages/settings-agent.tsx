/** Settings, "This agent": its name and what it is for; a rename reaches the peers at once. */
import type { NodeInfo, Specialization } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { type MessageKey, t } from '../i18n.js';
import { refreshAuth } from '../session.js';
import { SaveRow, useSettingsSave } from './settings-save.js';

const SPECIALIZATION_LABELS: Record<Specialization, MessageKey> = {
  code: 'spec.code',
  research: 'spec.research',
  creative: 'spec.creative',
  home: 'spec.home',
};
const SPECIALIZATIONS = Object.keys(SPECIALIZATION_LABELS) as Specialization[];
/** The node refuses longer names (contract: 1-64 characters after trimming). */
const MAX_NAME = 64;

/** The agent's name and specialisations, from GET /allerac/v1/node. */
export function AgentSettings() {
  const [name, setName] = useState('');
  const [specs, setSpecs] = useState<Specialization[]>([]);
  const [loaded, setLoaded] = useState(false);
  // The header shows the node's name from the auth state: reload it so the rename shows there too.
  const { state, save } = useSettingsSave(() => refreshAuth().then(() => undefined));
  useEffect(() => {
    void api<NodeInfo>('/allerac/v1/node')
      .then((node) => {
        setName(node.name);
        setSpecs(node.specializations.filter((s): s is Specialization => s in SPECIALIZATION_LABELS));
        setLoaded(true);
      })
      .catch(() => {});
  }, []);
  const toggle = (spec: Specialization, on: boolean) =>
    setSpecs((list) => (on ? [...new Set([...list, spec])] : list.filter((item) => item !== spec)));
  const submit = (event: Event) => {
    event.preventDefault();
    void save({ agentName: name.trim(), specializations: specs });
  };
  return (
    <section class="card stack" aria-labelledby="agent-title">
      <h2 id="agent-title">{t('settings.agent')}</h2>
      <p class="muted">{t('settings.agentHelp')}</p>
      <form class="stack" onSubmit={submit}>
        <label class="field">
          <span>{t('setup.agent.name')}</span>
          <input
            value={name}
            required
            // Editable once the current name is in: typing before it arrives would be overwritten.
            disabled={!loaded}
            maxLength={MAX_NAME}
            autocomplete="off"
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <fieldset class="choices">
          <legend>{t('setup.agent.specializations')}</legend>
          {SPECIALIZATIONS.map((spec) => (
            <label key={spec} class={specs.includes(spec) ? 'choice selected' : 'choice'}>
              <input
                type="checkbox"
                checked={specs.includes(spec)}
                onChange={(e) => toggle(spec, e.currentTarget.checked)}
              />
              <span>{t(SPECIALIZATION_LABELS[spec])}</span>
            </label>
          ))}
        </fieldset>
        <SaveRow state={state} disabled={!loaded || name.trim() === ''} />
      </form>
    </section>
  );
}
