/** Settings, "Network": the local Ollama's address, and whether the node serves the home network. */
import type { Dashboard, NodeSettings } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { SaveRow, type SettingsPatch, useSettingsSave } from './settings-save.js';

/** The Ollama URL field and the "serve the home network" switch. */
export function NetworkSettings() {
  const [ollamaUrl, setOllamaUrl] = useState('');
  const [serveLan, setServeLan] = useState(false);
  const [initial, setInitial] = useState<{ ollamaUrl: string; serveLan: boolean } | undefined>();
  const { state, save } = useSettingsSave();
  useEffect(() => {
    // A URL set here is a setting; else the one in use (flag or default) is the dashboard's.
    void Promise.all([api<Dashboard>('/allerac/v1/dashboard'), api<NodeSettings>('/allerac/v1/settings')])
      .then(([dashboard, settings]) => {
        const url = settings['backend.ollamaUrl'] ?? dashboard.ollama.url;
        const lan = settings['http.serveLan'] === true;
        setOllamaUrl(url);
        setServeLan(lan);
        setInitial({ ollamaUrl: url, serveLan: lan });
      })
      .catch(() => {});
  }, []);
  const submit = (event: Event) => {
    event.preventDefault();
    if (initial === undefined) return;
    const patch: SettingsPatch = {};
    if (ollamaUrl.trim() !== initial.ollamaUrl) patch.ollamaUrl = ollamaUrl.trim();
    if (serveLan !== initial.serveLan) patch.serveLan = serveLan;
    void save(patch).then((saved) => {
      if (saved) setInitial({ ollamaUrl: ollamaUrl.trim(), serveLan });
    });
  };
  return (
    <section class="card stack" aria-labelledby="network-title">
      <h2 id="network-title">{t('settings.network')}</h2>
      <form class="stack" onSubmit={submit}>
        <label class="field">
          <span>{t('settings.ollamaAddress')}</span>
          <input
            type="url"
            value={ollamaUrl}
            required
            disabled={initial === undefined}
            placeholder="http://127.0.0.1:11434"
            pattern="https?://.+"
            onInput={(e) => setOllamaUrl(e.currentTarget.value)}
          />
        </label>
        <p class="muted small">{t('settings.ollamaAddressHelp')}</p>
        <label class="switch">
          <input
            type="checkbox"
            role="switch"
            aria-checked={serveLan}
            checked={serveLan}
            disabled={initial === undefined}
            onChange={(e) => setServeLan(e.currentTarget.checked)}
          />
          <span>{t('settings.serveLan')}</span>
        </label>
        <p class={serveLan ? 'alert alert-warn small' : 'muted small'}>
          {t('settings.serveLanNote')} <a href="#devices">{t('settings.tokens')}</a>.{' '}
          {t('settings.serveLanRestart')}
        </p>
        <SaveRow state={state} disabled={initial === undefined} />
      </form>
    </section>
  );
}
