/**
 * Settings, "Home Assistant": where this node's Home Assistant is and its access token, which is
 * write-only (the page learns only whether one is set), and a test of the connection.
 */
import type { HomeAssistantSettingsView, HomeAssistantTestResult } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { SaveRow, type SaveState } from './settings-save.js';

const ROUTE = '/allerac/v1/settings/home-assistant';

type TestState = { kind: 'idle' } | { kind: 'testing' } | { kind: 'done'; result: HomeAssistantTestResult };

/** The URL and token fields, Save, and Test connection. */
export function HomeAssistantSettings() {
  const [view, setView] = useState<HomeAssistantSettingsView | undefined>();
  const [url, setUrl] = useState('');
  const [token, setToken] = useState('');
  const [domains, setDomains] = useState('');
  const [saveState, setSaveState] = useState<SaveState>({ kind: 'idle' });
  const [testState, setTestState] = useState<TestState>({ kind: 'idle' });
  useEffect(() => {
    void api<HomeAssistantSettingsView>(ROUTE)
      .then((settings) => {
        setView(settings);
        setUrl(settings.url ?? '');
        setDomains(settings.actionDomains.join(', '));
      })
      .catch(() => {});
  }, []);
  // A token typed here goes with the save or the test; an empty field keeps the stored one.
  const typed = () => (token.trim() === '' ? {} : { token: token.trim() });
  const save = async (event: Event) => {
    event.preventDefault();
    setSaveState({ kind: 'saving' });
    try {
      const saved = await api<HomeAssistantSettingsView>(ROUTE, {
        method: 'PUT',
        body: {
          url: url.trim(),
          ...typed(),
          actionDomains: domains
            .split(',')
            .map((domain) => domain.trim())
            .filter((domain) => domain !== ''),
        },
      });
      setView(saved);
      setToken('');
      setDomains(saved.actionDomains.join(', '));
      setSaveState({ kind: 'saved', restartRequired: false });
    } catch (error) {
      setSaveState({ kind: 'failed', message: (error as Error).message });
    }
  };
  const test = async () => {
    setTestState({ kind: 'testing' });
    try {
      const body = { ...(url.trim() === '' ? {} : { url: url.trim() }), ...typed() };
      setTestState({ kind: 'done', result: await api<HomeAssistantTestResult>(`${ROUTE}/test`, { body }) });
    } catch (error) {
      // A 400 (an address that is not http://…) is as much the test's answer as a refused token.
      setTestState({
        kind: 'done',
        result: { ok: false, problem: 'refused', message: (error as Error).message },
      });
    }
  };
  const result = testState.kind === 'done' ? testState.result : undefined;
  return (
    <section class="card stack" aria-labelledby="ha-title" data-testid="ha-settings">
      <h2 id="ha-title">{t('settings.homeAssistant')}</h2>
      <p class="muted">{t('settings.haHelp')}</p>
      <form class="stack" onSubmit={(event) => void save(event)}>
        <label class="field">
          <span>{t('settings.haUrl')}</span>
          <input
            type="url"
            data-testid="ha-url"
            placeholder="http://homeassistant.local:8123"
            value={url}
            disabled={view === undefined}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>{t('settings.haToken')}</span>
          <input
            type="password"
            autocomplete="off"
            data-testid="ha-token"
            value={token}
            disabled={view === undefined}
            onInput={(e) => setToken(e.currentTarget.value)}
          />
        </label>
        <p class="muted small" data-testid="ha-token-state">
          {t(view?.tokenSet === true ? 'settings.haTokenSet' : 'settings.haTokenNone')}
        </p>
        <label class="field">
          <span>{t('settings.haActionDomains')}</span>
          <input
            data-testid="ha-action-domains"
            value={domains}
            disabled={view === undefined}
            onInput={(e) => setDomains(e.currentTarget.value)}
          />
        </label>
        <SaveRow state={saveState} disabled={view === undefined || url.trim() === ''} />
      </form>
      <div class="row wrap">
        <button
          type="button"
          class="btn"
          data-testid="ha-test"
          disabled={view === undefined || testState.kind === 'testing'}
          onClick={() => void test()}
        >
          {t(testState.kind === 'testing' ? 'settings.haTesting' : 'settings.haTest')}
        </button>
        {result?.ok === true && (
          <span class="alert alert-ok small" role="status" data-testid="ha-test-result" data-ok="true">
            {t('settings.haOk', { name: result.locationName, version: result.version })}
          </span>
        )}
        {result?.ok === false && (
          <span class="alert alert-error small" role="alert" data-testid="ha-test-result" data-ok="false">
            {t('settings.haFailed', { message: result.message })}
          </span>
        )}
      </div>
    </section>
  );
}
