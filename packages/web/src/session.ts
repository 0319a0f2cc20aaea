import { api } from './api.js';
import { setLanguage } from './i18n.js';
import { signal } from './signal.js';

/** The signed-in user, as the node describes them. */
export interface SessionUser {
  id: string;
  username: string;
  role: 'admin' | 'member';
  language: string;
}

/** What GET /auth/state answers. */
export interface AuthState {
  /** `codeRequired`: this caller is on another machine and must enter the one-time setup code. */
  setup: { adminCreated: boolean; complete: boolean; codeRequired: boolean; codeFile: string | null };
  user: SessionUser | null;
  node: { name: string; version: string };
  language: string | null;
}

/** The latest auth state; undefined until the first load. */
export const authState = signal<AuthState | undefined>(undefined);

/** Reloads the auth state from the node. */
export async function refreshAuth(): Promise<AuthState> {
  const state = await api<AuthState>('/auth/state');
  authState.value = state;
  const preferred = state.user?.language ?? state.language;
  if (preferred !== null && preferred !== undefined && localStorage.getItem('allerac.language') === null)
    setLanguage(preferred);
  return state;
}
