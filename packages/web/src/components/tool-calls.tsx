/** What an assistant's tools did for an answer: one line per call, actions said as what changed. */
import type { ToolCallInfo } from '@allerac/node';
import { t } from '../i18n.js';

/** The longest argument or result summary shown before it is cut. */
const MAX_SUMMARY = 120;

const cut = (text: string) => (text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY - 1)}…` : text);

/** `key: value, …` of the arguments, short enough for one line. */
export function argumentsSummary(args: Record<string, unknown>): string {
  return cut(
    Object.entries(args)
      .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(', '),
  );
}

/** What an action did (or was to do), in words: "Turned off light.kitchen_ceiling". */
export function actionSentence(call: ToolCallInfo): string {
  const { domain, service, entity_id: entity } = call.arguments;
  if (typeof service !== 'string' || typeof entity !== 'string') {
    return t('chat.tool.ran', { name: call.name, what: argumentsSummary(call.arguments) });
  }
  if (service === 'turn_off') return t('chat.tool.turnedOff', { entity });
  if (service === 'turn_on') return t('chat.tool.turnedOn', { entity });
  if (service === 'toggle') return t('chat.tool.toggled', { entity });
  const name = typeof domain === 'string' ? `${domain}.${service}` : service;
  return t('chat.tool.ranOn', { service: name, entity });
}

/** What a refused or failed action was to do: "lock.unlock lock.front_door". */
function actionTarget(call: ToolCallInfo): string {
  const { domain, service, entity_id: entity } = call.arguments;
  if (typeof service !== 'string' || typeof entity !== 'string') {
    return `${call.name} (${argumentsSummary(call.arguments)})`;
  }
  return `${typeof domain === 'string' ? `${domain}.` : ''}${service} ${entity}`;
}

function ToolCallLine({ call }: { call: ToolCallInfo }) {
  const failed = call.error !== undefined;
  const title = !call.action
    ? t('chat.tool.used', { name: call.name })
    : failed
      ? t('chat.tool.notDone', { what: actionTarget(call) })
      : actionSentence(call);
  return (
    <li
      class={`tool-call${failed ? ' tool-call-failed' : ''}`}
      data-testid="tool-call"
      data-tool={call.name}
      data-action={call.action ? 'true' : 'false'}
      data-outcome={failed ? 'error' : 'ok'}
    >
      <span class="tool-call-head">
        {call.action && <span class="badge badge-action">{t('chat.tool.action')}</span>}
        <strong data-testid="tool-call-title">{title}</strong>
      </span>
      <span class="muted small">
        <code>{call.name}</code> {argumentsSummary(call.arguments)}
      </span>
      {failed ? (
        <span class="tool-call-error small" role="alert" data-testid="tool-call-error">
          {call.error!.message}
        </span>
      ) : (
        call.result !== undefined && (
          <span class="muted small">
            {t('chat.tool.result', { result: cut(JSON.stringify(call.result)) })}
          </span>
        )
      )}
    </li>
  );
}

/** The answer's tool calls, in the order the assistant made them. */
export function ToolCalls({ calls }: { calls: readonly ToolCallInfo[] }) {
  return (
    <ul class="tool-calls" data-testid="tool-calls" aria-label={t('chat.tool.list')}>
      {calls.map((call, i) => (
        <ToolCallLine key={`${call.step}-${i}`} call={call} />
      ))}
    </ul>
  );
}
