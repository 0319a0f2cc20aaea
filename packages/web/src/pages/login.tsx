import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import { LanguagePicker } from '../components/language-picker.js';
import { t } from '../i18n.js';
import { navigate } from '../router.js';
import { authState, refreshAuth } from '../session.js';
import { useSignal } from '../signal.js';

/** Sign-in page. */
export function LoginPage() {
  const state = useSignal(authState);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api('/auth/login', { body: { username, password } });
      const next = await refreshAuth();
      navigate(next.setup.complete ? '/chat' : '/setup', true);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 429)
        setError(t('login.locked', { seconds: caught.retryAfter ?? 1 }));
      else if (caught instanceof ApiError && caught.status === 401) setError(t('login.wrong'));
      else setError(t('error.network'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="auth-page">
      <form
        class="card auth-card"
        onSubmit={(event) => void submit(event)}
        aria-describedby={error === undefined ? undefined : 'login-error'}
      >
        <div class="auth-head">
          <img src="/favicon.svg" alt="" width="40" height="40" />
          <div>
            <h1>{t('login.title')}</h1>
            <p class="muted">{t('login.subtitle', { node: state?.node.name ?? 'Allerac' })}</p>
          </div>
        </div>
        <label class="field">
          <span>{t('login.username')}</span>
          <input
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>{t('login.password')}</span>
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error !== undefined && (
          <p id="login-error" class="alert alert-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="btn btn-primary btn-block" disabled={busy}>
          {t('login.submit')}
        </button>
        <LanguagePicker />
      </form>
    </div>
  );
}
