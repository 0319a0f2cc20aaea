import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { LanguagePicker } from '../components/language-picker.js';
import { toast } from '../components/toast.js';
import { t } from '../i18n.js';
import { authState } from '../session.js';
import { useSignal } from '../signal.js';

interface Token {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

interface User {
  id: string;
  username: string;
  role: 'admin' | 'member';
}

/** Settings: language, API tokens and people (admin). */
export function SettingsPage() {
  const state = useSignal(authState)!;
  const isAdmin = state.user?.role === 'admin';
  return (
    <div class="page">
      <header class="page-head">
        <h1 class="page-title">{t('settings.title')}</h1>
      </header>
      <section class="card stack">
        <h2>{t('settings.account')}</h2>
        <p class="muted">
          {t('settings.signedInAs', {
            name: state.user?.username ?? '',
            role: t(state.user?.role === 'admin' ? 'settings.role.admin' : 'settings.role.member'),
          })}
        </p>
        <LanguagePicker
          onChange={(language) =>
            void api('/allerac/v1/me', { method: 'PATCH', body: { language } }).catch(() => {})
          }
        />
      </section>
      {isAdmin && <Tokens />}
      {isAdmin && <People />}
    </div>
  );
}

function Tokens() {
  const [tokens, setTokens] = useState<Token[]>([]);
  const [name, setName] = useState('');
  const [role, setRole] = useState('admin');
  const [created, setCreated] = useState<string | undefined>();
  const load = () =>
    api<{ tokens: Token[] }>('/allerac/v1/tokens')
      .then((r) => setTokens(r.tokens))
      .catch(() => {});
  useEffect(() => void load(), []);
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const result = await api<{ token: string }>('/allerac/v1/tokens', { body: { name, role } });
      setCreated(result.token);
      setName('');
      await load();
    } catch (error) {
      toast(t('common.error', { message: (error as Error).message }), 'error');
    }
  };
  const revoke = async (id: string) => {
    await api(`/allerac/v1/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' }).catch((error: Error) =>
      toast(error.message, 'error'),
    );
    await load();
  };
  return (
    <section class="card stack">
      <h2>{t('settings.tokens')}</h2>
      <p class="muted">{t('settings.tokensHelp')}</p>
      <form class="row wrap" onSubmit={(event) => void create(event)}>
        <label class="field grow">
          <span>{t('settings.tokenName')}</span>
          <input value={name} required maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>{t('settings.tokenRole')}</span>
          <select value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            <option value="admin">{t('settings.role.admin')}</option>
            <option value="member">{t('settings.role.member')}</option>
          </select>
        </label>
        <button type="submit" class="btn btn-primary align-end">
          {t('settings.createToken')}
        </button>
      </form>
      {created !== undefined && (
        <div class="alert alert-ok" role="status">
          <p>{t('settings.tokenCreated')}</p>
          <code class="token" data-testid="new-token">
            {created}
          </code>
        </div>
      )}
      {tokens.length === 0 ? (
        <p class="muted">{t('settings.noTokens')}</p>
      ) : (
        <table class="table">
          <tbody>
            {tokens.map((token) => (
              <tr key={token.id} class={token.revokedAt !== null ? 'revoked' : ''}>
                <td>
                  <strong>{token.name}</strong>
                </td>
                <td class="muted">{token.role}</td>
                <td class="muted small">{new Date(token.createdAt).toLocaleDateString()}</td>
                <td class="num">
                  {token.revokedAt !== null ? (
                    <span class="muted">{t('settings.revoked')}</span>
                  ) : (
                    <button
                      type="button"
                      class="btn btn-ghost btn-small btn-danger-text"
                      onClick={() => void revoke(token.id)}
                    >
                      {t('settings.revoke')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function People() {
  const [users, setUsers] = useState<User[]>([]);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState('member');
  const me = useSignal(authState)?.user?.id;
  const load = () =>
    api<{ users: User[] }>('/allerac/v1/users')
      .then((r) => setUsers(r.users))
      .catch(() => {});
  useEffect(() => void load(), []);
  const add = async (event: Event) => {
    event.preventDefault();
    try {
      await api('/allerac/v1/users', { body: { username, password, role } });
      setUsername('');
      setPassword('');
      await load();
    } catch (error) {
      toast(t('common.error', { message: (error as Error).message }), 'error');
    }
  };
  const remove = async (id: string) => {
    await api(`/allerac/v1/users/${encodeURIComponent(id)}`, { method: 'DELETE' }).catch((error: Error) =>
      toast(error.message, 'error'),
    );
    await load();
  };
  return (
    <section class="card stack">
      <h2>{t('settings.users')}</h2>
      <p class="muted">{t('settings.usersHelp')}</p>
      <table class="table">
        <tbody>
          {users.map((user) => (
            <tr key={user.id}>
              <td>
                <strong>{user.username}</strong>
              </td>
              <td class="muted">
                {t(user.role === 'admin' ? 'settings.role.admin' : 'settings.role.member')}
              </td>
              <td class="num">
                {user.id !== me && (
                  <button
                    type="button"
                    class="btn btn-ghost btn-small btn-danger-text"
                    onClick={() => void remove(user.id)}
                  >
                    {t('common.delete')}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form class="row wrap" onSubmit={(event) => void add(event)}>
        <label class="field grow">
          <span>{t('settings.username')}</span>
          <input
            value={username}
            required
            autocomplete="off"
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label class="field grow">
          <span>{t('settings.password')}</span>
          <input
            type="password"
            value={password}
            required
            minLength={8}
            autocomplete="new-password"
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>{t('settings.tokenRole')}</span>
          <select value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            <option value="member">{t('settings.role.member')}</option>
            <option value="admin">{t('settings.role.admin')}</option>
          </select>
        </label>
        <button type="submit" class="btn align-end">
          {t('settings.addUser')}
        </button>
      </form>
    </section>
  );
}
