/** Settings, "Password": the signed-in user changes their own password. */
import type { PasswordChangeBody } from '@allerac/node';
import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import { toast } from '../components/toast.js';
import { t } from '../i18n.js';
import { refreshAuth } from '../session.js';

/** The node's own minimum (accounts/validateAccount), checked here too so the form can say so first. */
const MIN_PASSWORD = 8;

/** Current password, the new one twice; a change ends every session, so the user signs in again. */
export function PasswordSettings() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (next !== repeat) {
      setError(t('settings.passwordMismatch'));
      return;
    }
    setError(undefined);
    setBusy(true);
    const body: PasswordChangeBody = { currentPassword: current, newPassword: next };
    try {
      await api('/allerac/v1/me/password', { body, answers401: true });
      toast(t('settings.passwordChanged'));
      await refreshAuth();
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? t('settings.passwordWrong')
          : t('common.error', { message: (caught as Error).message }),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card stack" aria-labelledby="password-title">
      <h2 id="password-title">{t('settings.passwordTitle')}</h2>
      <form class="row wrap" onSubmit={(event) => void submit(event)}>
        <label class="field grow">
          <span>{t('settings.currentPassword')}</span>
          <input
            type="password"
            value={current}
            required
            autocomplete="current-password"
            onInput={(e) => setCurrent(e.currentTarget.value)}
          />
        </label>
        <label class="field grow">
          <span>{t('settings.newPassword')}</span>
          <input
            type="password"
            value={next}
            required
            minLength={MIN_PASSWORD}
            autocomplete="new-password"
            onInput={(e) => setNext(e.currentTarget.value)}
          />
        </label>
        <label class="field grow">
          <span>{t('settings.repeatPassword')}</span>
          <input
            type="password"
            value={repeat}
            required
            minLength={MIN_PASSWORD}
            autocomplete="new-password"
            onInput={(e) => setRepeat(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="btn align-end" disabled={busy}>
          {t('settings.changePassword')}
        </button>
      </form>
      {error !== undefined && (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
