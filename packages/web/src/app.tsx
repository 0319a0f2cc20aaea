import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { api, setUnauthorizedHandler } from './api.js';
import { Toasts } from './components/toast.js';
import { language, type MessageKey, t } from './i18n.js';
import { AgentsPage } from './pages/agents.js';
import { AssistantsPage } from './pages/assistants.js';
import { ChatPage } from './pages/chat.js';
import { DashboardPage } from './pages/dashboard.js';
import { LoginPage } from './pages/login.js';
import { MemoriesPage } from './pages/memories.js';
import { ModelsPage } from './pages/models.js';
import { SettingsPage } from './pages/settings.js';
import { SetupPage } from './pages/setup.js';
import { currentPath, navigate } from './router.js';
import { authState, refreshAuth } from './session.js';
import { useSignal } from './signal.js';

const PAGES: Array<{ path: string; key: MessageKey; icon: string; admin: boolean }> = [
  { path: '/chat', key: 'nav.chat', icon: 'M4 5h16v11H8l-4 4z', admin: false },
  { path: '/agents', key: 'nav.agents', icon: 'M3 5h18v10H3zM8 19h8M12 15v4', admin: true },
  {
    path: '/models',
    key: 'nav.models',
    icon: 'M12 3l8 4.5v9L12 21l-8-4.5v-9zM4 7.5l8 4.5 8-4.5M12 12v9',
    admin: true,
  },
  {
    path: '/assistants',
    key: 'nav.assistants',
    icon: 'M12 3a4 4 0 1 1 0 8 4 4 0 0 1 0-8zM4 21c0-4 4-6 8-6s8 2 8 6',
    admin: false,
  },
  { path: '/memories', key: 'nav.memories', icon: 'M6 3h12v18l-6-4-6 4z', admin: false },
  { path: '/dashboard', key: 'nav.dashboard', icon: 'M3 20h18M6 16l4-6 4 3 5-8', admin: true },
  {
    path: '/settings',
    key: 'nav.settings',
    icon: 'M12 8a4 4 0 1 0 0 8 4 4 0 0 0 0-8zM12 2v3M12 19v3M2 12h3M19 12h3',
    admin: false,
  },
];

/** Where the auth state says this path should go instead, if anywhere. */
function redirectFor(path: string): string | undefined {
  const state = authState.value;
  if (state === undefined) return undefined;
  if (!state.setup.adminCreated) return path === '/setup' ? undefined : '/setup';
  if (state.user === null) return path === '/login' ? undefined : '/login';
  if (!state.setup.complete && state.user.role === 'admin') return path === '/setup' ? undefined : '/setup';
  if (path === '/setup' || path === '/login' || path === '/') return '/chat';
  const page = PAGES.find((item) => item.path === path);
  if (page === undefined) return '/chat';
  if (page.admin && state.user.role !== 'admin') return '/chat';
  return undefined;
}

/** The name of the page at `path`, for the window title and history. */
function pageName(path: string): string {
  if (path === '/setup') return t('nav.setup');
  if (path === '/login') return t('login.submit');
  const page = PAGES.find((item) => item.path === path);
  return page === undefined ? '' : t(page.key);
}

/** The application: loads the session, guards pages, and renders the shell. */
export function App() {
  const path = useSignal(currentPath);
  const state = useSignal(authState);
  const lang = useSignal(language);

  // Each page has its own title, so tabs, history and screen readers tell them apart.
  useEffect(() => {
    const name = pageName(path);
    document.title = name === '' ? t('app.name') : `${name} · ${t('app.name')}`;
  }, [path, lang]);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      void refreshAuth().then(() => navigate('/login', true));
    });
    void refreshAuth().catch(() => {});
  }, []);

  useEffect(() => {
    const target = redirectFor(path);
    if (target !== undefined) navigate(target, true);
  }, [path, state]);

  if (state === undefined) {
    return (
      <div class="center-screen" aria-busy="true">
        <p>{t('common.loading')}</p>
      </div>
    );
  }
  if (redirectFor(path) !== undefined) return <div class="center-screen" />;
  if (path === '/setup')
    return (
      <Frame>
        <SetupPage />
      </Frame>
    );
  if (path === '/login')
    return (
      <Frame>
        <LoginPage />
      </Frame>
    );
  return (
    <Shell path={path}>
      {path === '/chat' && <ChatPage />}
      {path === '/agents' && <AgentsPage />}
      {path === '/models' && <ModelsPage />}
      {path === '/assistants' && <AssistantsPage />}
      {path === '/memories' && <MemoriesPage />}
      {path === '/dashboard' && <DashboardPage />}
      {path === '/settings' && <SettingsPage />}
    </Shell>
  );
}

function Frame(props: { children: ComponentChildren }) {
  return (
    <>
      {props.children}
      <Toasts />
    </>
  );
}

function Shell(props: { path: string; children: ComponentChildren }) {
  const state = useSignal(authState)!;
  const isAdmin = state.user?.role === 'admin';
  const logout = async () => {
    await api('/auth/logout', { method: 'POST' }).catch(() => {});
    await refreshAuth();
    navigate('/login', true);
  };
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        {t('nav.skip')}
      </a>
      <header class="topbar">
        <div class="brand">
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <div>
            <strong>{t('app.name')}</strong>
            <span class="muted small">{state.node.name}</span>
          </div>
        </div>
        <nav aria-label={t('nav.main')} class="nav">
          {PAGES.filter((page) => isAdmin || !page.admin).map((page) => (
            <a
              key={page.path}
              href={page.path}
              class={props.path === page.path ? 'nav-link active' : 'nav-link'}
              aria-current={props.path === page.path ? 'page' : undefined}
              onClick={(event) => {
                event.preventDefault();
                navigate(page.path);
              }}
            >
              <svg aria-hidden="true" class="nav-icon" viewBox="0 0 24 24" width="18" height="18">
                <path d={page.icon} />
              </svg>
              <span>{t(page.key)}</span>
            </a>
          ))}
        </nav>
        <div class="topbar-end">
          <span class="muted small user-name">{state.user?.username}</span>
          <button type="button" class="btn btn-ghost" onClick={() => void logout()}>
            {t('nav.logout')}
          </button>
        </div>
      </header>
      <main id="main" class="main" tabIndex={-1}>
        {props.children}
      </main>
      <Toasts />
    </div>
  );
}
