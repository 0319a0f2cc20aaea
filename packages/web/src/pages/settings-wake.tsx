/** Settings, "Machines that sleep": this machine's Wake-on-LAN flags and how this node wakes others. */
import type { NodeSettings } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';
import { SaveRow, type SettingsPatch, useSettingsSave } from './settings-save.js';

interface WakeForm {
  wakeOnLan: boolean;
  preferredWhenOn: boolean;
  wakeEnabled: boolean;
  /** Seconds, as the field shows them; stored as `routing.patienceMs`. */
  patienceSeconds: number;
}

/** The node's defaults (store/settings-keys.ts) when nothing is stored yet. */
function formOf(settings: NodeSettings): WakeForm {
  return {
    wakeOnLan: settings['wake.wakeOnLan'] === true,
    preferredWhenOn: settings['wake.preferredWhenOn'] === true,
    wakeEnabled: settings['wake.enabled'] !== false,
    patienceSeconds: Math.round((settings['routing.patienceMs'] ?? 20_000) / 1000),
  };
}

/** Three switches and the patience field. */
export function WakeSettings() {
  const [form, setForm] = useState<WakeForm | undefined>();
  const [initial, setInitial] = useState<WakeForm | undefined>();
  const { state, save } = useSettingsSave();
  useEffect(() => {
    void api<NodeSettings>('/allerac/v1/settings')
      .then((settings) => {
        setForm(formOf(settings));
        setInitial(formOf(settings));
      })
      .catch(() => {});
  }, []);
  const submit = (event: Event) => {
    event.preventDefault();
    if (form === undefined || initial === undefined) return;
    const patch: SettingsPatch = {};
    if (form.wakeOnLan !== initial.wakeOnLan) patch.wakeOnLan = form.wakeOnLan;
    if (form.preferredWhenOn !== initial.preferredWhenOn) patch.preferredWhenOn = form.preferredWhenOn;
    if (form.wakeEnabled !== initial.wakeEnabled) patch.wakeEnabled = form.wakeEnabled;
    if (form.patienceSeconds !== initial.patienceSeconds) patch.patienceMs = form.patienceSeconds * 1000;
    void save(patch).then((saved) => {
      if (saved) setInitial(form);
    });
  };
  const toggle = (key: 'wakeOnLan' | 'preferredWhenOn' | 'wakeEnabled', label: string) => (
    <label class="switch">
      <input
        type="checkbox"
        role="switch"
        data-testid={`wake-${key}`}
        aria-checked={form?.[key] === true}
        checked={form?.[key] === true}
        disabled={form === undefined}
        onChange={(e) => form && setForm({ ...form, [key]: e.currentTarget.checked })}
      />
      <span>{label}</span>
    </label>
  );
  return (
    <section class="card stack" aria-labelledby="wake-title">
      <h2 id="wake-title">{t('settings.wake')}</h2>
      <form class="stack" onSubmit={submit}>
        {toggle('wakeOnLan', t('settings.wakeOnLan'))}
        {toggle('preferredWhenOn', t('settings.preferredWhenOn'))}
        {toggle('wakeEnabled', t('settings.wakeEnabled'))}
        <label class="field">
          <span>{t('settings.patience')}</span>
          <input
            type="number"
            min={0}
            max={600}
            step={1}
            data-testid="wake-patience"
            value={form?.patienceSeconds ?? ''}
            disabled={form === undefined}
            onInput={(e) =>
              form &&
              setForm({ ...form, patienceSeconds: Math.max(0, Math.round(Number(e.currentTarget.value))) })
            }
          />
        </label>
        <p class="muted small">{t('settings.wakeHelp')}</p>
        <SaveRow state={state} disabled={form === undefined} />
      </form>
    </section>
  );
}
