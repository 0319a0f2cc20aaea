import type { Role, UserList, UserView } from '@allerac/node';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { BackupPanel } from '../components/backup-panel.js';
import { LanguagePicker } from '../components/language-picker.js';
import { toast } from '../components/toast.js';
import { UpdatePanel } from '../components/update-panel.js';
import { t } from '../i18n.js';
import { authState } from '../session.js';
import { useSignal } from '../signal.js';
import { AgentSettings } from './settings-agent.js';
import { HomeAssistantSettings } from './settings-home-assistant.js';
import { ModelSettings } from './settings-models.js';
import { NetworkSettings } from './settings-network.js';
import { PasswordSettings } from './settings-password.js';
import { DevicesAndTokens } from './settings-tokens.js';
import { WakeSettings } from './settings-wake.js';

/**
 * Settings: everyone's account, language and password; for an admin also the agent, its models,
 * its network, backups, updates, devices and tokens, and people.
 */
export function SettingsPage() {
  const state = useSignal(authState)!;
  const isAdmin = state.user?.role === 'admin';
  return (
    <div class="page">
      <header class="page-head">
        <h1 class="page-title">{t('settings.title')}</h1>
      </header>
      <section class="card stack" aria-labelledby="account-title">
        <h2 id="account-title">{t('settings.account')}</h2>
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
      <PasswordSettings />
      {isAdmin && (
        <>
          <AgentSettings />
          <ModelSettings />
          <NetworkSettings />
          <WakeSettings />
          <HomeAssistantSettings />
          <BackupPanel />
          <UpdatePanel />
          <div id="devices">
            <DevicesAndTokens />
          </div>
          <People />
        </>
      )}
    </div>
  );
}

function People() {
  const [users, setUsers] = useState<UserView[]>([]);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('member');
  const me = useSignal(authState)?.user?.id;
  const load = () =>
    api<UserList>('/allerac/v1/users')
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
          <select value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
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
