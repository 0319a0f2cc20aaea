/** Saving a section of Settings: PATCH /allerac/v1/settings, and the line that says how it went. */
import type { SettingsPatchBody, SettingsUpdated } from '@allerac/node';
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';

/** What a section may change (PATCH /allerac/v1/settings takes any of these, at least one). */
export type SettingsPatch = Partial<SettingsPatchBody>;

/** How the last save of a section went. */
export type SaveState =
  | { kind: 'idle' }
  | { kind: 'saving' }
  | { kind: 'saved'; restartRequired: boolean }
  | { kind: 'failed'; message: string };

/** A section's save: sends the patch and keeps its outcome for the section to show. */
export function useSettingsSave(onSaved?: () => void | Promise<void>) {
  const [state, setState] = useState<SaveState>({ kind: 'idle' });
  /** Resolves true once saved, false when the node refused (the row then says why). */
  const save = async (patch: SettingsPatch): Promise<boolean> => {
    // Nothing changed: the route wants at least one setting, and there is nothing to say but "saved".
    if (Object.keys(patch).length === 0) {
      setState({ kind: 'saved', restartRequired: false });
      return true;
    }
    setState({ kind: 'saving' });
    try {
      const answer = await api<SettingsUpdated>('/allerac/v1/settings', { method: 'PATCH', body: patch });
      setState({ kind: 'saved', restartRequired: answer.restartRequired });
      await onSaved?.();
      return true;
    } catch (error) {
      setState({ kind: 'failed', message: (error as Error).message });
      return false;
    }
  };
  return { state, save };
}

/** The section's Save button and the sentence beside it: saved, saved but needs a restart, or why not. */
export function SaveRow(props: { state: SaveState; disabled?: boolean }) {
  const { state } = props;
  return (
    <div class="row wrap">
      <button
        type="submit"
        class="btn btn-primary"
        disabled={props.disabled === true || state.kind === 'saving'}
      >
        {t('common.save')}
      </button>
      {state.kind === 'saved' && (
        <span class="muted small" role="status">
          {t(state.restartRequired ? 'settings.savedRestart' : 'settings.saved')}
        </span>
      )}
      {state.kind === 'failed' && (
        <span class="alert alert-error small" role="alert">
          {t('common.error', { message: state.message })}
        </span>
      )}
    </div>
  );
}
