/** The Chat page's assistant picker: choosing one makes the chat's model `agent/<slug>`. */
import type { AgentList, AgentView } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';

/** The model-name prefix of the agents (contract/agents.ts). */
export const AGENT_PREFIX = 'agent/';

/** The model a chat sends: the assistant's when one is chosen, else the model itself. */
export const chatModelOf = (model: string, agent: string): string =>
  agent === '' ? model : `${AGENT_PREFIX}${agent}`;

/** The home's assistants, loaded once; empty when the node has none or cannot say. */
export function useAgents(): AgentView[] {
  const [agents, setAgents] = useState<AgentView[]>([]);
  useEffect(() => {
    void api<AgentList>('/allerac/v1/agents')
      .then((list) => setAgents(list.agents))
      .catch(() => setAgents([]));
  }, []);
  return agents;
}

/** A select of the assistants, with "none" for the model alone. */
export function AgentPicker(props: { agents: AgentView[]; value: string; onChange: (slug: string) => void }) {
  // An assistant remembered from before and deleted since: back to the model alone.
  useEffect(() => {
    if (props.value !== '' && props.agents.length > 0 && !props.agents.some((a) => a.slug === props.value))
      props.onChange('');
  }, [props.agents, props.value]);
  return (
    <label class="field inline">
      <span>{t('chat.assistant')}</span>
      <select
        data-testid="agent-picker"
        value={props.value}
        onChange={(e) => props.onChange(e.currentTarget.value)}
      >
        <option value="">{t('chat.noAgent')}</option>
        {props.agents.map((agent) => (
          <option key={agent.slug} value={agent.slug}>
            {`${agent.icon} ${agent.name}`.trim()}
          </option>
        ))}
      </select>
    </label>
  );
}
