/** Settings, "Models": the chat page's default model and the memories' embedding model. */
import type { NodeSettings, Recommendation } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { SaveRow, type SettingsPatch, useSettingsSave } from './settings-save.js';

/** A model picker over the node's models; the current choice stays listed even when it is gone. */
function ModelSelect(props: {
  label: string;
  models: string[];
  value: string;
  disabled: boolean;
  onChange: (v: string) => void;
}) {
  const names =
    props.value === '' || props.models.includes(props.value) ? props.models : [props.value, ...props.models];
  return (
    <label class="field grow">
      <span>{props.label}</span>
      <select
        value={props.value}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.currentTarget.value)}
      >
        {props.value === '' && <option value="">{t('common.none')}</option>}
        {names.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The two model choices, from the models this node's Ollama has. */
export function ModelSettings() {
  const [installed, setInstalled] = useState<Recommendation['installed'] | undefined>();
  const [chatModel, setChatModel] = useState('');
  const [embeddingModel, setEmbeddingModel] = useState('');
  /** The choices as the node has them, to send only what changed. */
  const [initial, setInitial] = useState<{ chat: string; embedding: string } | undefined>();
  const { state, save } = useSettingsSave();
  useEffect(() => {
    void api<Recommendation>('/allerac/v1/setup/recommendation')
      .then((r) => setInstalled(r.installed))
      .catch(() => setInstalled([]));
    void api<NodeSettings>('/allerac/v1/settings')
      .then((settings) => {
        const current = {
          chat: settings['ui.chatModel'] ?? '',
          embedding: settings['memory.embeddingModel'] ?? settings['memory.activeEmbeddingModel'] ?? '',
        };
        setInitial(current);
        setChatModel(current.chat);
        setEmbeddingModel(current.embedding);
      })
      .catch(() => {});
  }, []);
  // Choosing before the current choices are in would be overwritten when they arrive.
  const ready = installed !== undefined && initial !== undefined;
  const chat = (installed ?? []).filter((m) => !m.embedding).map((m) => m.name);
  const embedding = (installed ?? []).filter((m) => m.embedding).map((m) => m.name);
  const submit = (event: Event) => {
    event.preventDefault();
    // Only what changed: a new embedding model re-embeds every memory, so it is not sent for nothing.
    if (initial === undefined) return;
    const patch: SettingsPatch = {};
    if (chatModel !== '' && chatModel !== initial.chat) patch.chatModel = chatModel;
    if (embeddingModel !== '' && embeddingModel !== initial.embedding) patch.embeddingModel = embeddingModel;
    void save(patch).then((saved) => {
      if (saved) setInitial({ chat: chatModel, embedding: embeddingModel });
    });
  };
  return (
    <section class="card stack" aria-labelledby="models-title">
      <h2 id="models-title">{t('settings.models')}</h2>
      {installed !== undefined && installed.length === 0 && (
        <p class="alert alert-warn">{t('settings.noModels')}</p>
      )}
      <form class="stack" onSubmit={submit}>
        <div class="row wrap">
          <ModelSelect
            label={t('settings.chatModel')}
            models={chat}
            value={chatModel}
            disabled={!ready}
            onChange={setChatModel}
          />
          <ModelSelect
            label={t('settings.embeddingModel')}
            models={embedding}
            value={embeddingModel}
            disabled={!ready}
            onChange={setEmbeddingModel}
          />
        </div>
        <p class="muted small">{t('settings.embeddingHelp')}</p>
        <SaveRow state={state} disabled={!ready} />
      </form>
    </section>
  );
}
